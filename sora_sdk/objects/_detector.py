"""2D detectors for object labels: Ultralytics YOLO exports run with onnxruntime or TorchScript.

The model contract is the one ``ultralytics`` writes with ``export(format="onnx")`` and
``export(format="torchscript")`` for the detect and segment tasks (YOLOv8 / YOLO11 heads):

- input ``images`` : (1, 3, H, W) float32 (float16 for half exports), RGB in 0..1. The image is
  letterboxed into H x W: resized keeping its aspect ratio, centred, the rest gray 114.
- output 0 : (1, 4 + nc + nm, N), one column per anchor: box centre x, centre y, width, height in
  input pixels, then nc class scores (sigmoid already applied; there is no objectness score), then
  nm mask coefficients (segmentation models only, nm = 32 for Ultralytics).
- output 1, segmentation only : (1, nm, H/4, W/4) mask prototypes; an anchor's mask over the
  letterboxed input is sigmoid(coefficients @ prototypes).

Post-processing follows Ultralytics' ``non_max_suppression`` and ``process_mask``: each anchor keeps
its best class; anchors scoring at most ``conf_threshold`` go; class-aware NMS (OpenCV's
``NMSBoxesBatched``) at ``iou_threshold``; at most ``max_detections`` stay, best first; boxes go back
through the letterbox into image pixels and are clipped to the image. A mask is sampled from the
prototypes straight at image resolution, only inside its box (one bilinear lookup per box pixel
instead of an upsampled full-image mask per detection, which is what cropping to the box keeps anyway),
and thresholded at ``mask_threshold``.

Boxes use the edge convention of Ultralytics and most detectors: the image spans [0, w] x [0, h] and
pixel (u, v) covers [u, u + 1) x [v, v + 1), so its centre is (u + 0.5, v + 0.5).

Class names come from, in this order: the label file (``labels_path``), the model's own metadata
(``names`` in an ONNX model's metadata_props, or in a TorchScript archive's ``config.txt``, both
written by Ultralytics), else ``class_<i>``. Their count must match the model's class count.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from scipy.special import expit

from sora_sdk.core.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError

from ._types import Detection2D

__all__ = [
    "DEFAULT_INPUT_SIZE",
    "Detector",
    "DetectorOptions",
    "Letterbox",
    "OnnxYoloDetector",
    "TorchScriptDetector",
    "letterbox",
    "load_detector",
    "read_labels",
]

#: Model input edge in pixels when neither the model nor the options fix it (Ultralytics' default).
DEFAULT_INPUT_SIZE = 640
#: Gray of the letterbox padding (Ultralytics' LetterBox).
PAD_VALUE = 114
#: At most this many candidates (best scores first) enter NMS, as in Ultralytics (``max_nms``).
_MAX_NMS_CANDIDATES = 30000
_ONNX_SUFFIXES = (".onnx",)
_TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".torchscript", ".ptl")
_LAYOUT = (
    "the Ultralytics YOLO layout: output 0 (1, 4 + classes [+ mask coefficients], anchors), "
    "and for segmentation output 1 (1, mask coefficients, H/4, W/4)"
)
_DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class DetectorOptions:
    """How a 2D detector is loaded and how its raw output becomes detections."""

    model_path: str | os.PathLike[str]
    """the model file: ``.onnx`` (onnxruntime) or ``.pt`` / ``.pth`` / ``.torchscript`` (TorchScript)"""
    labels_path: str | os.PathLike[str] | None = None
    """class names: one per line, or YAML/JSON holding ``names`` (a list, or {index: name}); None or "" uses
    the model's metadata (else ``class_<i>``)"""
    input_size: int | tuple[int, int] | None = None
    """model input (height, width) in pixels, one int for a square; used by models whose input size is
    not fixed (dynamic ONNX axes, TorchScript). None: the model's metadata ``imgsz``, else 640. A model
    with a fixed input size must match it"""
    conf_threshold: float = 0.25
    """least class score (0..1) a detection needs; the score is the model's own, no objectness"""
    iou_threshold: float = 0.45
    """NMS: a box overlapping a better one of the same class by more than this IoU (0..1) is dropped"""
    max_detections: int = 100
    """most detections returned per image, best first"""
    mask_threshold: float = 0.5
    """a pixel belongs to a detection's mask when its mask probability (0..1) exceeds this"""
    device: str = "auto"
    """"auto" (CUDA when the runtime has it, else CPU), "cpu" or "cuda" (fails without CUDA)"""
    num_threads: int = 0
    """onnxruntime intra-op threads; 0 leaves onnxruntime's default (one per core)"""

    def __post_init__(self) -> None:
        if not str(self.model_path):
            raise InvalidArgumentError.field("model_path", "is required")
        for name in ("conf_threshold", "iou_threshold", "mask_threshold"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and 0.0 <= v <= 1.0):
                raise InvalidArgumentError.field(name, f"must be in 0..1, got {v!r}")
        if not (isinstance(self.max_detections, int) and self.max_detections >= 1):
            raise InvalidArgumentError.field(
                "max_detections", f"must be a positive integer, got {self.max_detections!r}"
            )
        if self.device not in _DEVICES:
            raise InvalidArgumentError.field("device", f"must be one of {', '.join(_DEVICES)}, got {self.device!r}")
        if not (isinstance(self.num_threads, int) and self.num_threads >= 0):
            raise InvalidArgumentError.field("num_threads", f"must be >= 0, got {self.num_threads!r}")
        if self.input_size is not None:
            _size_hw(self.input_size, "input_size")


@dataclass(frozen=True)
class Letterbox:
    """Where an (h, w) image went in the (H, W) model input: input = image * scale + pad (pixels, edge
    convention); the scales are per axis because the resized size is rounded to whole pixels."""

    image_hw: tuple[int, int]
    input_hw: tuple[int, int]
    scale_x: float
    scale_y: float
    pad_x: int
    pad_y: int


def letterbox(image: np.ndarray, input_hw: tuple[int, int]) -> tuple[np.ndarray, Letterbox]:
    """Ultralytics' letterbox: the (h, w, 3) uint8 RGB image resized (bilinear) to fit (H, W) keeping its
    aspect ratio, centred on gray 114 -> ((1, 3, H, W) float32 RGB in 0..1, where the image went)."""
    h, w = image.shape[:2]
    ih, iw = input_hw
    gain = min(ih / h, iw / w)
    nw, nh = round(w * gain), round(h * gain)
    # Ultralytics rounds the two pads with -0.1 / +0.1, so an odd remainder goes to the bottom / right.
    left, top = round((iw - nw) / 2 - 0.1), round((ih - nh) / 2 - 0.1)
    resized = image if (nw, nh) == (w, h) else cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((ih, iw, 3), PAD_VALUE, dtype=np.uint8)
    canvas[top : top + nh, left : left + nw] = resized
    blob = canvas.transpose(2, 0, 1)[None].astype(np.float32) * np.float32(1.0 / 255.0)
    return blob, Letterbox((h, w), (ih, iw), nw / w, nh / h, left, top)


class Detector:
    """A 2D detector with the Ultralytics YOLO output layout; the backends differ only in how they run it.

    Attributes, fixed at load: ``labels`` (class names by class id), ``input_hw`` (model input height,
    width, pixels), ``has_masks`` (a segmentation model), ``device`` ("cpu" or "cuda", what runs it),
    ``options``. :meth:`detect` may be called from several threads at once.
    """

    options: DetectorOptions
    labels: tuple[str, ...]
    input_hw: tuple[int, int]
    has_masks: bool
    device: str
    model_path: Path

    def _configure(
        self,
        options: DetectorOptions,
        path: Path,
        device: str,
        *,
        fixed_input_hw: tuple[int, int] | None,
        metadata: Mapping[str, Any],
    ) -> None:
        """Shared set-up once the backend can run: input size, a first run on a blank image to check the
        output layout, then class names."""
        self.options = options
        self.model_path = path
        self.device = device
        task = str(metadata.get("task", "detect"))
        if task not in ("detect", "segment"):
            raise InvalidArgumentError.field(
                "model_path", f"{path.name} is a YOLO '{task}' model; expected detect or segment"
            )
        self.input_hw = _input_hw(options.input_size, fixed_input_hw, metadata, path)
        try:
            outputs = self._infer(np.zeros((1, 3, *self.input_hw), dtype=np.float32))
        except InvalidArgumentError:
            raise
        except Exception as e:  # the runtimes' own errors: a fixed batch size, an input size it can't take
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise InvalidArgumentError.field(
                "model_path",
                f"{path.name} does not run on a (1, 3, {self.input_hw[0]}, {self.input_hw[1]}) input: {first}",
            ) from e
        label_source, labels = _labels_for(options, metadata, path)
        nc, nm = _check_layout(outputs, labels, label_source, path, self.input_hw)
        if task == "segment" and nm == 0:
            raise InvalidArgumentError.field(
                "model_path", f"{path.name} is a segmentation model without a mask prototype output; expected {_LAYOUT}"
            )
        self.labels = tuple(labels) if labels is not None else tuple(f"class_{i}" for i in range(nc))
        self.has_masks = nm > 0

    def _infer(self, blob: np.ndarray) -> list[np.ndarray]:
        """Runs the model on a (1, 3, H, W) float32 blob -> its outputs as float32 numpy arrays."""
        raise NotImplementedError

    def detect(self, image: np.ndarray) -> list[Detection2D]:
        """Detections in one image, best score first.

        image : (h, w, 3) uint8 RGB (``CameraFrame.color``).
        Returns boxes in the image's pixels (edge convention, clipped to [0, w] x [0, h]) and, for
        segmentation models, (h, w) bool masks inside each box.
        """
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or 0 in img.shape:
            raise InvalidArgumentError.field("image", f"must be (h, w, 3) uint8 RGB, got {img.shape} {img.dtype}")
        blob, lb = letterbox(img, self.input_hw)
        return self._postprocess(self._infer(blob), lb)

    def _postprocess(self, outputs: list[np.ndarray], lb: Letterbox) -> list[Detection2D]:
        o = self.options
        nc = len(self.labels)
        pred = outputs[0][0]  # (4 + nc + nm, N)
        if pred.shape[0] < 4 + nc or (self.has_masks and len(outputs) < 2):
            raise InvalidArgumentError.field(
                "model_path", f"{self.model_path.name} output changed shape to {outputs[0].shape}; expected {_LAYOUT}"
            )
        scores = pred[4 : 4 + nc]
        class_ids = scores.argmax(axis=0)
        best = scores[class_ids, np.arange(scores.shape[1])]
        cand = np.flatnonzero(best > o.conf_threshold)
        if cand.size == 0:
            return []
        if cand.size > _MAX_NMS_CANDIDATES:
            cand = cand[np.argsort(-best[cand], kind="stable")[:_MAX_NMS_CANDIDATES]]
        cxcywh = pred[:4, cand].T.astype(np.float64)
        xywh = np.column_stack([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, 2:]])
        # OpenCV's batched NMS offsets each class's boxes apart and runs one NMS: class-aware, in C++.
        # It takes the (n, 4) array as its sequence of Rect2d (the stubs only know the sequence).
        picked = cv2.dnn.NMSBoxesBatched(
            xywh,  # type: ignore[arg-type]
            best[cand].astype(np.float32),
            class_ids[cand].astype(np.int32),
            0.0,
            float(o.iou_threshold),
        )
        keep = np.asarray(picked, dtype=np.int64).reshape(-1)
        keep = keep[np.argsort(-best[cand][keep], kind="stable")]
        boxes = _unletterbox(xywh[keep], lb)
        nonempty = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])  # boxes inside the padding vanish
        keep, boxes = keep[nonempty][: o.max_detections], boxes[nonempty][: o.max_detections]
        idx = cand[keep]
        masks: list[np.ndarray | None] = [None] * len(idx)
        if self.has_masks and len(idx):
            coeffs = pred[4 + nc :, idx].T.astype(np.float32)
            masks = list(_masks(coeffs, outputs[1][0], boxes, lb, o.mask_threshold))
        return [
            Detection2D(
                label=self.labels[int(class_ids[i])],
                class_id=int(class_ids[i]),
                score=float(best[i]),
                box_xyxy_px=boxes[k].astype(np.float32),
                mask=masks[k],
            )
            for k, i in enumerate(idx)
        ]

    def close(self) -> None:
        """Releases the model; the detector cannot be used afterwards."""

    def __enter__(self) -> Detector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "segment" if self.has_masks else "detect"
        return (
            f"{type(self).__name__}({self.model_path.name}, {kind}, {len(self.labels)} classes, "
            f"input {self.input_hw[0]}x{self.input_hw[1]}, {self.device})"
        )


class OnnxYoloDetector(Detector):
    """An Ultralytics-layout ONNX model run with onnxruntime (CUDAExecutionProvider first when present)."""

    def __init__(self, options: DetectorOptions) -> None:
        import onnxruntime as ort

        path = _existing_file(options.model_path, "model_path")
        available = ort.get_available_providers()
        if options.device == "cpu" or "CUDAExecutionProvider" not in available:
            if options.device == "cuda":
                raise FailedPreconditionError(
                    f"device 'cuda' was asked for but onnxruntime has no CUDAExecutionProvider (it has "
                    f"{', '.join(available)}); install onnxruntime-gpu or use device 'auto' or 'cpu'",
                    metadata={"field": "device"},
                )
            providers = ["CPUExecutionProvider"]
        else:
            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        so = ort.SessionOptions()
        if options.num_threads:
            so.intra_op_num_threads = options.num_threads
        try:
            session = ort.InferenceSession(str(path), sess_options=so, providers=providers)
        except Exception as e:  # onnxruntime raises its own pybind exception types for unreadable models
            raise InvalidArgumentError.field(
                "model_path", f"{path.name} is not a model onnxruntime can load: {e}"
            ) from e
        # onnxruntime falls back to CPU silently when the CUDA libraries fail to load.
        device = "cuda" if session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"
        if options.device == "cuda" and device != "cuda":
            raise FailedPreconditionError(
                "device 'cuda' was asked for but onnxruntime could not start CUDA", metadata={"field": "device"}
            )
        inputs = session.get_inputs()
        shape = list(inputs[0].shape) if len(inputs) == 1 else []
        if len(inputs) != 1 or len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
            got = ", ".join(f"{i.name} {list(i.shape)}" for i in inputs)
            raise InvalidArgumentError.field(
                "model_path", f"{path.name} takes {got}; expected one input 'images' (1, 3, H, W) RGB"
            )
        if inputs[0].type not in ("tensor(float)", "tensor(float16)"):
            raise InvalidArgumentError.field(
                "model_path", f"{path.name} input is {inputs[0].type}; expected float or float16"
            )
        self._session = session
        self._input_name = inputs[0].name
        self._input_dtype = np.float16 if inputs[0].type == "tensor(float16)" else np.float32
        fixed = (shape[2], shape[3]) if isinstance(shape[2], int) and isinstance(shape[3], int) else None
        metadata = _parse_onnx_metadata(session.get_modelmeta().custom_metadata_map)
        self._configure(options, path, device, fixed_input_hw=fixed, metadata=metadata)

    @classmethod
    def create_from_options(cls, options: DetectorOptions) -> OnnxYoloDetector:
        return cls(options)

    def _infer(self, blob: np.ndarray) -> list[np.ndarray]:
        outputs = self._session.run(None, {self._input_name: blob.astype(self._input_dtype, copy=False)})
        return [np.asarray(x, dtype=np.float32) for x in outputs]

    def close(self) -> None:
        self._session = None  # type: ignore[assignment]


class TorchScriptDetector(Detector):
    """An Ultralytics-layout TorchScript model (``torch.jit.load``), on CUDA when torch has it."""

    def __init__(self, options: DetectorOptions) -> None:
        import torch

        path = _existing_file(options.model_path, "model_path")
        cuda = torch.cuda.is_available()
        if options.device == "cuda" and not cuda:
            raise FailedPreconditionError(
                "device 'cuda' was asked for but torch sees no CUDA device", metadata={"field": "device"}
            )
        device = "cuda" if cuda and options.device != "cpu" else "cpu"
        extra: dict[str, Any] = {"config.txt": ""}
        try:
            model = torch.jit.load(str(path), map_location=device, _extra_files=extra)
        except (RuntimeError, ValueError) as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise InvalidArgumentError.field(
                "model_path",
                f"{path.name} is not a TorchScript archive ({first}); an Ultralytics .pt checkpoint must be "
                "exported first (format='torchscript' or 'onnx')",
            ) from e
        model.eval()
        params = [p for p in model.parameters() if p.is_floating_point()]
        self._torch = torch
        self._model = model
        self._torch_device = torch.device(device)
        self._dtype = params[0].dtype if params else torch.float32
        config = extra["config.txt"]
        metadata = _parse_json_metadata(config.decode() if isinstance(config, bytes) else config, path)
        self._configure(options, path, device, fixed_input_hw=None, metadata=metadata)

    @classmethod
    def create_from_options(cls, options: DetectorOptions) -> TorchScriptDetector:
        return cls(options)

    def _infer(self, blob: np.ndarray) -> list[np.ndarray]:
        torch = self._torch
        with torch.inference_mode():
            out = self._model(torch.from_numpy(blob).to(self._torch_device, self._dtype))
        tensors = [out] if isinstance(out, torch.Tensor) else [t for t in out if isinstance(t, torch.Tensor)]
        if not tensors:
            raise InvalidArgumentError.field(
                "model_path", f"{self.model_path.name} returned {type(out).__name__}; expected tensors in {_LAYOUT}"
            )
        return [t.detach().float().cpu().numpy() for t in tensors]

    def close(self) -> None:
        self._model = None


def load_detector(
    model: str | os.PathLike[str] | DetectorOptions,
    labels_path: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Detector:
    """The detector for a model file, the backend chosen by its extension (.onnx: onnxruntime;
    .pt / .pth / .torchscript: TorchScript).

    ``model`` is the model path, or complete :class:`DetectorOptions` (then ``labels_path`` and
    ``options`` override its fields); ``options`` are the other :class:`DetectorOptions` fields.
    Raises NotFoundError for a missing file, InvalidArgumentError (naming the field) for an unknown
    extension, a model outside the expected layout, or labels that do not match its classes,
    FailedPreconditionError for device "cuda" without CUDA.
    """
    if isinstance(model, DetectorOptions):
        overrides = dict(options)
        if labels_path is not None:
            overrides["labels_path"] = labels_path
        opts = dataclasses.replace(model, **overrides) if overrides else model
    else:
        opts = DetectorOptions(model_path=model, labels_path=labels_path, **options)
    suffix = Path(opts.model_path).suffix.lower()
    if suffix in _ONNX_SUFFIXES:
        return OnnxYoloDetector(opts)
    if suffix in _TORCHSCRIPT_SUFFIXES:
        return TorchScriptDetector(opts)
    raise InvalidArgumentError.field(
        "model_path",
        f"{Path(opts.model_path).name}: unknown model type {suffix or '(no extension)'!r}; expected "
        f"{', '.join(_ONNX_SUFFIXES + _TORCHSCRIPT_SUFFIXES)}",
    )


def read_labels(path: str | os.PathLike[str]) -> list[str]:
    """Class names from a label file: ``.yaml`` / ``.yml`` / ``.json`` holding ``names`` (a list, or a
    mapping {index: name} with indices 0..n-1, as in Ultralytics' dataset YAML), or the list / mapping
    itself; any other file is one name per line (blank lines skipped)."""
    p = _existing_file(path, "labels_path")
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() in (".yaml", ".yml", ".json"):
        try:
            if p.suffix.lower() == ".json":
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
        except Exception as e:  # json.JSONDecodeError, yaml.YAMLError
            raise InvalidArgumentError.field("labels_path", f"{p.name} does not parse: {e}") from e
        if isinstance(data, dict) and "names" in data:
            data = data["names"]
        return _names(data, "labels_path", p.name)
    labels = [line.strip() for line in text.splitlines() if line.strip()]
    if not labels:
        raise InvalidArgumentError.field("labels_path", f"{p.name} holds no labels")
    return labels


# --- helpers --------------------------------------------------------------------------------------


def _existing_file(path: str | os.PathLike[str], field: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise NotFoundError(f"{field}: {p} not found", metadata={"field": field, "path": str(p)})
    return p


def _size_hw(value: Any, field: str) -> tuple[int, int]:
    """An int or (height, width) of positive ints -> (height, width)."""
    hw = (value, value) if isinstance(value, int) else tuple(value) if isinstance(value, list | tuple) else ()
    if len(hw) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 8192 for v in hw):
        raise InvalidArgumentError.field(field, f"must be a positive int or (height, width), got {value!r}")
    return int(hw[0]), int(hw[1])


def _input_hw(
    option: int | tuple[int, int] | None, fixed: tuple[int, int] | None, metadata: Mapping[str, Any], path: Path
) -> tuple[int, int]:
    wanted = _size_hw(option, "input_size") if option is not None else None
    if fixed is not None:
        if wanted is not None and wanted != fixed:
            raise InvalidArgumentError.field(
                "input_size", f"{path.name} takes a fixed {fixed[0]}x{fixed[1]} input, not {wanted[0]}x{wanted[1]}"
            )
        return fixed
    if wanted is None:
        imgsz = metadata.get("imgsz")
        wanted = _size_hw(imgsz, "model_path") if imgsz is not None else (DEFAULT_INPUT_SIZE, DEFAULT_INPUT_SIZE)
    stride = metadata.get("stride")
    if isinstance(stride, int) and stride > 0 and (wanted[0] % stride or wanted[1] % stride):
        raise InvalidArgumentError.field(
            "input_size", f"{wanted[0]}x{wanted[1]} is not a multiple of {path.name}'s stride {stride}"
        )
    return wanted


def _labels_for(options: DetectorOptions, metadata: Mapping[str, Any], path: Path) -> tuple[str, list[str] | None]:
    """(where the names came from, the names or None when neither a file nor the model has them)."""
    if options.labels_path is not None and str(options.labels_path):
        return "labels_path", read_labels(options.labels_path)
    if "names" in metadata:
        return "model_path", _names(metadata["names"], "model_path", f"{path.name} metadata 'names'")
    return "", None


def _names(data: Any, field: str, where: str) -> list[str]:
    if isinstance(data, dict):
        try:
            by_index = {int(k): str(v) for k, v in data.items()}
        except (TypeError, ValueError):
            by_index = {}
        if not by_index or sorted(by_index) != list(range(len(by_index))):
            raise InvalidArgumentError.field(field, f"{where}: names must map the indices 0..n-1 to names")
        return [by_index[i] for i in range(len(by_index))]
    if isinstance(data, list) and data and all(isinstance(v, str | int | float) for v in data):
        return [str(v) for v in data]
    raise InvalidArgumentError.field(field, f"{where}: expected a list of names or a {{index: name}} mapping")


def _parse_onnx_metadata(props: Mapping[str, str]) -> dict[str, Any]:
    """Ultralytics writes each metadata value as ``str(value)`` (a Python literal for dicts and lists)."""
    out: dict[str, Any] = {}
    for key, text in props.items():
        try:
            out[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            out[key] = text
    return out


def _parse_json_metadata(text: str, path: Path) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidArgumentError.field("model_path", f"{path.name}: config.txt is not JSON: {e}") from e
    return data if isinstance(data, dict) else {}


def _check_layout(
    outputs: list[np.ndarray],
    labels: list[str] | None,
    label_source: str,
    path: Path,
    input_hw: tuple[int, int],
) -> tuple[int, int]:
    """The model's (class count, mask coefficient count) from its outputs on a blank input; raises
    InvalidArgumentError naming the expected layout when they are not the Ultralytics YOLO layout."""
    shapes = ", ".join(str(tuple(o.shape)) for o in outputs) or "nothing"
    if not 1 <= len(outputs) <= 2:
        raise InvalidArgumentError.field("model_path", f"{path.name} returns {shapes}; expected {_LAYOUT}")
    pred = outputs[0]
    protos = outputs[1] if len(outputs) == 2 else None
    nm = 0
    if protos is not None:
        if protos.ndim != 4 or protos.shape[0] != 1 or protos.shape[1] < 1:
            raise InvalidArgumentError.field(
                "model_path",
                f"{path.name} output 1 is {tuple(protos.shape)}; expected mask prototypes "
                f"(1, mask coefficients, {input_hw[0] // 4}, {input_hw[1] // 4}) as in {_LAYOUT}",
            )
        nm = int(protos.shape[1])
    if pred.ndim != 3 or pred.shape[0] != 1 or pred.shape[1] < 5 + nm or pred.shape[2] < 1:
        raise InvalidArgumentError.field(
            "model_path", f"{path.name} output 0 is {tuple(pred.shape)}; expected {_LAYOUT}"
        )
    nc = int(pred.shape[1]) - 4 - nm
    if labels is not None and len(labels) != nc:
        rows = f"4 box + {nc} class" + (f" + {nm} mask coefficient" if nm else "") + " rows"
        hint = ""
        if pred.shape[2] == 4 + len(labels) + nm:
            hint = f"; it looks transposed: expected (1, {4 + len(labels) + nm}, anchors)"
        elif pred.shape[2] == 6 + nm:
            hint = "; it looks like an end-to-end (NMS-free) export with (1, detections, 6) rows: export the raw head"
        what = "the label file" if label_source == "labels_path" else "its metadata"
        raise InvalidArgumentError.field(
            label_source,
            f"{what} names {len(labels)} classes but {path.name} output 0 is {tuple(pred.shape)}: {rows}{hint}",
        )
    return nc, nm


def _unletterbox(xywh: np.ndarray, lb: Letterbox) -> np.ndarray:
    """(n, 4) x, y, w, h in model input pixels -> (n, 4) float64 x1, y1, x2, y2 in image pixels, clipped."""
    h, w = lb.image_hw
    x1 = (xywh[:, 0] - lb.pad_x) / lb.scale_x
    y1 = (xywh[:, 1] - lb.pad_y) / lb.scale_y
    x2 = (xywh[:, 0] + xywh[:, 2] - lb.pad_x) / lb.scale_x
    y2 = (xywh[:, 1] + xywh[:, 3] - lb.pad_y) / lb.scale_y
    return np.column_stack([np.clip(x1, 0, w), np.clip(y1, 0, h), np.clip(x2, 0, w), np.clip(y2, 0, h)])


def _masks(
    coeffs: np.ndarray, protos: np.ndarray, boxes: np.ndarray, lb: Letterbox, threshold: float
) -> list[np.ndarray]:
    """(h, w) bool masks: sigmoid(coeffs (n, nm) @ protos (nm, mh, mw)), sampled bilinearly at the centre
    of each image pixel inside its box (n, 4) (image pixels, edge convention), thresholded."""
    nm, mh, mw = protos.shape
    prob = expit(coeffs @ protos.reshape(nm, -1)).reshape(-1, mh, mw).astype(np.float32)
    (h, w), (ih, iw) = lb.image_hw, lb.input_hw
    out: list[np.ndarray] = []
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        mask = np.zeros((h, w), dtype=bool)
        # Pixels whose centre (u + 0.5, v + 0.5) lies in the box.
        c0, c1 = max(0, math.ceil(x1 - 0.5)), min(w, math.floor(x2 - 0.5) + 1)
        r0, r1 = max(0, math.ceil(y1 - 0.5)), min(h, math.floor(y2 - 0.5) + 1)
        if c1 > c0 and r1 > r0:
            # Image pixel centre -> input pixels -> prototype pixel index (prototype centres at i + 0.5).
            px = ((np.arange(c0, c1) + 0.5) * lb.scale_x + lb.pad_x) * (mw / iw) - 0.5
            py = ((np.arange(r0, r1) + 0.5) * lb.scale_y + lb.pad_y) * (mh / ih) - 0.5
            map_x = np.ascontiguousarray(np.broadcast_to(px[None, :], (r1 - r0, c1 - c0)), dtype=np.float32)
            map_y = np.ascontiguousarray(np.broadcast_to(py[:, None], (r1 - r0, c1 - c0)), dtype=np.float32)
            patch = cv2.remap(prob[i], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            mask[r0:r1, c0:c1] = patch > threshold
        out.append(mask)
    return out
