"""A tiny but real detector in the Ultralytics YOLO export layout, exported to ONNX and TorchScript here.

``ColorBlobYolo`` finds saturated red, green and blue regions. On a grid of stride 8 each cell (one
anchor per cell and class) scores the fraction of its 16 x 16 neighbourhood in that colour, and its box
is the extent of that colour within a 256 x 256 window around it (min / max of the pixel coordinates,
by pooling), so a region up to ~120 input px across gets its exact box from every cell that scores (and
same-colour regions closer than ~128 px merge), and NMS has many duplicates to remove. The segmentation
variant adds 32 prototypes at 1/4 resolution whose first three are the colour fractions of 4 x 4 blocks
as logits, and gives each anchor its class's one-hot mask coefficients, so a mask is the region of that
colour inside the box.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

COLOR_CLASSES = ("red", "green", "blue")
#: Ultralytics-style model metadata naming the classes.
NAMES_METADATA = {"names": dict(enumerate(COLOR_CLASSES))}
STRIDE = 8
WINDOW = 256
NUM_MASKS = 32
#: A pixel has a class's colour when that channel exceeds RATIO x the larger other one and MIN_VALUE.
RATIO = 2.5
MIN_VALUE = 0.15
PURE = {"red": (230, 20, 20), "green": (20, 230, 20), "blue": (20, 20, 230)}


class ColorBlobYolo(torch.nn.Module):
    """(1, 3, H, W) RGB 0..1, H and W multiples of 8 -> (1, 4 + 3 [+ 32], 3 * H/8 * W/8) [, protos]."""

    def __init__(self, segment: bool = False) -> None:
        super().__init__()
        self.segment = segment
        nc = len(COLOR_CLASSES)
        # Anchors are class-major: anchor block c scores class c only.
        self.register_buffer("eye", torch.eye(nc).reshape(1, nc, nc, 1))
        self.register_buffer("onehot", torch.eye(NUM_MASKS)[:, :nc].reshape(1, NUM_MASKS, nc, 1))

    def forward(self, images: torch.Tensor) -> Any:
        r, g, b = images[:, 0:1], images[:, 1:2], images[:, 2:3]
        masks = []
        for c, o1, o2 in ((r, g, b), (g, r, b), (b, r, g)):
            masks.append(((c > RATIO * torch.maximum(o1, o2)) & (c > MIN_VALUE)).float())
        ind = torch.cat(masks, 1)  # (1, nc, H, W)
        ones = torch.ones_like(images[:, :1])
        xs = torch.cumsum(ones, 3) - 1  # column index; pixel u spans [u, u + 1)
        ys = torch.cumsum(ones, 2) - 1
        big = 1.0e4
        pad = WINDOW // 2 - STRIDE // 2  # the window is centred on the cell centre

        def max_pool(t: torch.Tensor) -> torch.Tensor:
            # A square window's max is the max over its rows of the max along each row: two cheap passes.
            rows = F.max_pool2d(t, (1, WINDOW), (1, STRIDE), (0, pad))
            return F.max_pool2d(rows, (WINDOW, 1), (STRIDE, 1), (pad, 0))

        left = -max_pool(-(xs * ind + big * (1 - ind)))
        right = max_pool((xs + 1) * ind)
        top = -max_pool(-(ys * ind + big * (1 - ind)))
        bottom = max_pool((ys + 1) * ind)
        score = F.avg_pool2d(ind, 2 * STRIDE, STRIDE, STRIDE // 2)  # (1, nc, H/8, W/8)
        nc = ind.shape[1]
        boxes = torch.stack([(left + right) / 2, (top + bottom) / 2, right - left, bottom - top], 1)
        boxes = boxes.reshape(1, 4, -1)  # (1, 4, nc * cells)
        scores = (self.eye * score.reshape(1, 1, nc, -1)).reshape(1, nc, -1)
        if not self.segment:
            return torch.cat([boxes, scores], 1)
        cells = score.reshape(1, 1, nc, -1)
        coeffs = (self.onehot * torch.ones_like(cells)).reshape(1, NUM_MASKS, -1)
        blocks = (F.avg_pool2d(ind, 4, 4) - 0.5) * 20.0  # logits of the colour fraction of each 4 x 4 block
        protos = torch.cat([blocks, torch.zeros_like(blocks[:, :1]).expand(-1, NUM_MASKS - nc, -1, -1)], 1)
        return torch.cat([boxes, scores, coeffs], 1), protos


def export_onnx(
    path: Path,
    module: torch.nn.Module | None = None,
    *,
    input_hw: tuple[int, int] = (128, 128),
    dynamic: bool = False,
    metadata: dict[str, Any] | None = None,
    channels: int = 3,
    batch: int = 1,
) -> Path:
    """``module`` (default ColorBlobYolo()) exported like Ultralytics does: input 'images', outputs
    'output0' [, 'output1'], metadata values written as ``str(value)``."""
    module = (module or ColorBlobYolo()).eval()
    example = torch.zeros(batch, channels, *input_hw)
    with torch.no_grad():
        out = module(example)
    n_out = len(out) if isinstance(out, tuple) else 1
    names = ["output0", "output1"][:n_out]
    axes = {"images": {2: "height", 3: "width"}, "output0": {2: "anchors"}} if dynamic else None
    if dynamic and n_out == 2:
        axes["output1"] = {2: "mask_height", 3: "mask_width"}  # type: ignore[index]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(
            module, (example,), str(path), dynamo=False, input_names=["images"], output_names=names,
            dynamic_axes=axes, opset_version=17,
        )  # fmt: skip
    if metadata:
        import onnx

        model = onnx.load(str(path))
        for key, value in metadata.items():
            prop = model.metadata_props.add()
            prop.key, prop.value = key, str(value)
        onnx.save(model, str(path))
    return path


def export_torchscript(
    path: Path,
    module: torch.nn.Module | None = None,
    *,
    input_hw: tuple[int, int] = (128, 128),
    metadata: dict[str, Any] | None = None,
) -> Path:
    """``module`` traced and saved as Ultralytics does, metadata as JSON in the archive's config.txt."""
    module = (module or ColorBlobYolo()).eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, torch.zeros(1, 3, *input_hw))
    extra = {"config.txt": json.dumps(metadata)} if metadata else {}
    torch.jit.save(traced, str(path), _extra_files=extra)
    return path


def paint(image: np.ndarray, color: str, x0: int, y0: int, x1: int, y1: int) -> None:
    """Fills image[y0:y1, x0:x1] (a box with edges x0, y0, x1, y1) with the pure colour."""
    image[y0:y1, x0:x1] = PURE[color]


def background(h: int, w: int, seed: int = 0) -> np.ndarray:
    """(h, w, 3) uint8: gray noise that none of the colour classes fires on."""
    rng = np.random.default_rng(seed)
    return rng.integers(60, 180, size=(h, w, 1), dtype=np.uint8).repeat(3, axis=2)
