"""The one error tree of Sora SDK.

Every layer raises these; the server maps them to gRPC status codes in one place
(``sora_sdk.server._errors``) and the client maps status codes back to the same classes,
so application code catches the same exception whether it runs in-process or remotely::

    SoraError
     ├── InvalidArgumentError      bad input; carries FieldViolation(field, description) items
     ├── NotFoundError             unknown session, anchor, map
     ├── AlreadyExistsError
     ├── FailedPreconditionError   e.g. a sensor stream whose first message is not its config
     ├── OutOfRangeError           a resume position older than the retained history
     ├── ResourceExhaustedError    a subscriber too far behind, a quota, a full queue
     ├── PermissionDeniedError
     ├── UnauthenticatedError
     ├── UnavailableError          the server is draining; resume elsewhere
     ├── DataLossError             a torn or foreign map file
     └── InternalError
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AlreadyExistsError",
    "DataLossError",
    "FailedPreconditionError",
    "FieldViolation",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "SoraError",
    "UnauthenticatedError",
    "UnavailableError",
]


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: ``field`` is the proto field path (``camera_frame.depth.data``)."""

    field: str
    description: str


class SoraError(Exception):
    """Root of every error Sora raises on purpose.

    ``reason`` is a stable UPPER_SNAKE identifier (google.rpc.ErrorInfo.reason);
    ``metadata`` holds string facts a client can act on (e.g. ``resume_epoch``).
    """

    reason: str = "SORA_ERROR"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})

    def __str__(self) -> str:
        return self.message


class InvalidArgumentError(SoraError):
    """Input that can never be valid; ``violations`` names each bad field."""

    reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str | None = None,
        *,
        violations: list[FieldViolation] | None = None,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        self.violations: list[FieldViolation] = list(violations or [])
        if message is None:
            message = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(message or "invalid argument", reason=reason, metadata=metadata)

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgumentError:
        """An error about a single field, with the field named in the message too."""
        return cls(f"{field}: {description}", violations=[FieldViolation(field, description)])


class NotFoundError(SoraError):
    reason = "NOT_FOUND"


class AlreadyExistsError(SoraError):
    reason = "ALREADY_EXISTS"


class FailedPreconditionError(SoraError):
    reason = "FAILED_PRECONDITION"


class OutOfRangeError(SoraError):
    reason = "OUT_OF_RANGE"


class ResourceExhaustedError(SoraError):
    reason = "RESOURCE_EXHAUSTED"


class PermissionDeniedError(SoraError):
    reason = "PERMISSION_DENIED"


class UnauthenticatedError(SoraError):
    reason = "UNAUTHENTICATED"


class UnavailableError(SoraError):
    reason = "UNAVAILABLE"


class DataLossError(SoraError):
    reason = "DATA_LOSS"


class InternalError(SoraError):
    reason = "INTERNAL"
