"""gRPC status -> the same SoraError classes the core raises."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2

from ..core import errors as E

__all__ = ["from_rpc_error"]

_CLASSES: dict[grpc.StatusCode, type[E.SoraError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: E.InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: E.NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: E.AlreadyExistsError,
    grpc.StatusCode.FAILED_PRECONDITION: E.FailedPreconditionError,
    grpc.StatusCode.OUT_OF_RANGE: E.OutOfRangeError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: E.ResourceExhaustedError,
    grpc.StatusCode.PERMISSION_DENIED: E.PermissionDeniedError,
    grpc.StatusCode.UNAUTHENTICATED: E.UnauthenticatedError,
    grpc.StatusCode.UNAVAILABLE: E.UnavailableError,
    grpc.StatusCode.DATA_LOSS: E.DataLossError,
    grpc.StatusCode.INTERNAL: E.InternalError,
}


def from_rpc_error(err: grpc.RpcError) -> E.SoraError:
    """Rebuilds the server's error (class, reason, metadata, field violations) from a status."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    message = (err.details() if hasattr(err, "details") else None) or str(code)
    reason: str | None = None
    metadata: dict[str, str] = {}
    violations: list[E.FieldViolation] = []
    trailing = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    for key, value in trailing or ():
        if key != "grpc-status-details-bin":
            continue
        st = status_pb2.Status.FromString(value)
        for detail in st.details:
            info = error_details_pb2.ErrorInfo()
            br = error_details_pb2.BadRequest()
            if detail.Unpack(info):
                reason = info.reason
                metadata = dict(info.metadata)
            elif detail.Unpack(br):
                violations = [E.FieldViolation(v.field, v.description) for v in br.field_violations]
    cls = _CLASSES.get(code, E.SoraError)
    if cls is E.InvalidArgumentError:
        out: E.SoraError = E.InvalidArgumentError(message, violations=violations, reason=reason, metadata=metadata)
    else:
        out = cls(message, reason=reason, metadata=metadata)
    out.code = code  # type: ignore[attr-defined]
    return out
