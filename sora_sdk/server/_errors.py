"""SoraError <-> gRPC status, in one place, with google.rpc.Status details.

Every error carries an ErrorInfo (reason, domain "sora.v1", metadata); InvalidArgumentError adds a
BadRequest whose field violations name each bad field; a quota (ResourceExhaustedError whose metadata
names it) adds QuotaFailure, and RetryInfo for rates. Unexpected exceptions become INTERNAL without
leaking their text (it is logged instead).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from ..core import errors as E

__all__ = ["DOMAIN", "STATUS_CODES", "abort_with", "handle_errors", "to_status"]

log = logging.getLogger("sora.server")

DOMAIN = "sora.v1"

STATUS_CODES: dict[type[E.SoraError], grpc.StatusCode] = {
    E.InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    E.NotFoundError: grpc.StatusCode.NOT_FOUND,
    E.AlreadyExistsError: grpc.StatusCode.ALREADY_EXISTS,
    E.FailedPreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    E.OutOfRangeError: grpc.StatusCode.OUT_OF_RANGE,
    E.ResourceExhaustedError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    E.PermissionDeniedError: grpc.StatusCode.PERMISSION_DENIED,
    E.UnauthenticatedError: grpc.StatusCode.UNAUTHENTICATED,
    E.UnavailableError: grpc.StatusCode.UNAVAILABLE,
    E.DataLossError: grpc.StatusCode.DATA_LOSS,
    E.InternalError: grpc.StatusCode.INTERNAL,
}


def status_code_of(err: E.SoraError) -> grpc.StatusCode:
    for cls in type(err).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]  # type: ignore[index]
    return grpc.StatusCode.UNKNOWN


def to_status(err: E.SoraError) -> tuple[grpc.StatusCode, status_pb2.Status]:
    code = status_code_of(err)
    st = status_pb2.Status(code=code.value[0], message=err.message)
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=err.reason, domain=DOMAIN, metadata=err.metadata))
    st.details.append(info)
    if isinstance(err, E.InvalidArgumentError) and err.violations:
        br = any_pb2.Any()
        br.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in err.violations
                ]
            )
        )
        st.details.append(br)
    if isinstance(err, E.ResourceExhaustedError) and "quota" in err.metadata:
        # A quota (server._quota): also the standard QuotaFailure and, for rates, RetryInfo.
        qf = any_pb2.Any()
        qf.Pack(
            error_details_pb2.QuotaFailure(
                violations=[
                    error_details_pb2.QuotaFailure.Violation(subject=err.metadata["quota"], description=err.message)
                ]
            )
        )
        st.details.append(qf)
        if "retry_after_s" in err.metadata:
            retry = error_details_pb2.RetryInfo()
            retry.retry_delay.FromNanoseconds(int(float(err.metadata["retry_after_s"]) * 1e9))
            ri = any_pb2.Any()
            ri.Pack(retry)
            st.details.append(ri)
    return code, st


async def abort_with(context: grpc.aio.ServicerContext, err: E.SoraError) -> None:
    code, st = to_status(err)
    await context.abort(code, err.message, trailing_metadata=(("grpc-status-details-bin", st.SerializeToString()),))


F = TypeVar("F", bound=Callable[..., Any])


def _internal(exc: BaseException, method: str) -> E.InternalError:
    log.exception("unexpected error in %s", method, exc_info=exc)
    return E.InternalError(f"internal error in {method}; see the server log", reason="INTERNAL")


def handle_errors(fn: F) -> F:
    """Maps SoraError (and unexpected exceptions) raised by a servicer method to a gRPC status."""
    name = fn.__qualname__
    if inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        async def gen_wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                async for item in fn(self, request, context):
                    yield item
            except E.SoraError as err:
                await abort_with(context, err)
            except (grpc.aio.AbortError, GeneratorExit, asyncio.CancelledError):
                raise
            except Exception as exc:
                await abort_with(context, _internal(exc, name))

        return gen_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await fn(self, request, context)
        except E.SoraError as err:
            await abort_with(context, err)
        except (grpc.aio.AbortError, asyncio.CancelledError):
            raise
        except Exception as exc:
            await abort_with(context, _internal(exc, name))

    return wrapper  # type: ignore[return-value]


_ = code_pb2  # google.rpc.Code numbers equal grpc.StatusCode values; kept for readers of this module
