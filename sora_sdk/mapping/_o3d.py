"""numpy -> Open3D tensor conversion in one place (Open3D's type stubs reject ndarrays)."""

from __future__ import annotations

import numpy as np
import open3d.core as o3c

__all__ = ["to_tensor"]


def to_tensor(array: np.ndarray, dtype: o3c.Dtype | None = None, device: o3c.Device | None = None) -> o3c.Tensor:
    """A copy of ``array`` as an Open3D tensor, optionally cast and moved."""
    tensor = o3c.Tensor(np.ascontiguousarray(array))  # type: ignore[call-overload]
    if dtype is not None and tensor.dtype != dtype:
        tensor = tensor.to(dtype)
    if device is not None and tensor.device != device:
        tensor = tensor.to(device)
    return tensor
