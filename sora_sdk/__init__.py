"""Sora SDK: a self-hostable spatial companion service and its Python client."""

from __future__ import annotations

from ._version import __version__
from .core.config import SoraConfig, load_config
from .core.errors import (
    AlreadyExistsError,
    DataLossError,
    FailedPreconditionError,
    FieldViolation,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    OutOfRangeError,
    PermissionDeniedError,
    ResourceExhaustedError,
    SoraError,
    UnauthenticatedError,
    UnavailableError,
)
from .core.geometry import Intrinsics, Pose
from .core.sensors import CameraFrame

__all__ = [
    "AlreadyExistsError",
    "CameraFrame",
    "DataLossError",
    "FailedPreconditionError",
    "FieldViolation",
    "InternalError",
    "Intrinsics",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "Pose",
    "ResourceExhaustedError",
    "SoraConfig",
    "SoraError",
    "UnauthenticatedError",
    "UnavailableError",
    "__version__",
    "load_config",
]
