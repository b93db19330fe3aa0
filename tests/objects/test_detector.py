"""The 2D detector backends on real onnxruntime and TorchScript runs of a small colour detector made here.

The model (``detector_helpers.ColorBlobYolo``) is input-dependent: it finds painted red, green and blue
regions, so each test paints regions at known places and checks what decoding, NMS, un-letterboxing
and mask sampling make of the raw output.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from detector_helpers import COLOR_CLASSES, ColorBlobYolo, background, export_onnx, export_torchscript, paint

from sora_sdk.core.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from sora_sdk.objects._detector import (
    Detector,
    DetectorOptions,
    OnnxYoloDetector,
    TorchScriptDetector,
    letterbox,
    load_detector,
    read_labels,
)
from sora_sdk.objects._types import Detection2D

NAMES = dict(enumerate(COLOR_CLASSES))
# Boxes come back through a 0.4x letterbox (320 x 240 into 128 x 128); region edges painted on 5 px
# multiples land on whole input pixels, so they come back within float round-off, and 1 px is generous.
BOX_TOL_PX = 1.0


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("models")
    return {
        "detect": export_onnx(d / "detect.onnx"),
        "detect_meta": export_onnx(d / "meta.onnx", metadata={"names": NAMES, "task": "detect", "stride": 32}),
        "segment": export_onnx(d / "segment.onnx", ColorBlobYolo(segment=True), metadata={"names": NAMES}),
        "dynamic": export_onnx(d / "dynamic.onnx", dynamic=True, metadata={"names": NAMES, "imgsz": [256, 256]}),
        "torchscript": export_torchscript(
            d / "segment.torchscript", ColorBlobYolo(segment=True), metadata={"names": NAMES, "imgsz": [128, 128]}
        ),
    }


@pytest.fixture(scope="module")
def labels_txt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("labels") / "colors.txt"
    p.write_text("red\ngreen\nblue\n")
    return p


def scene() -> np.ndarray:
    """320 x 240 with one region of each colour, edges on 5 px multiples."""
    img = background(240, 320)
    paint(img, "red", 40, 50, 120, 110)
    paint(img, "blue", 200, 20, 260, 80)
    paint(img, "green", 150, 150, 250, 230)
    return img


def by_label(dets: list[Detection2D]) -> dict[str, list[Detection2D]]:
    out: dict[str, list[Detection2D]] = {}
    for d in dets:
        out.setdefault(d.label, []).append(d)
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_onnx_detector_finds_each_painted_region_once_with_its_label_and_box(
    models: dict[str, Path], labels_txt: Path
) -> None:
    with load_detector(models["detect"], labels_txt) as det:
        assert isinstance(det, OnnxYoloDetector)
        assert det.labels == COLOR_CLASSES and det.input_hw == (128, 128) and not det.has_masks
        assert det.device == "cpu"
        dets = det.detect(scene())
    # Each region is scored by dozens of anchors, all with its box: NMS leaves one per region.
    assert sorted(d.label for d in dets) == ["blue", "green", "red"]
    expected = {"red": (40, 50, 120, 110), "blue": (200, 20, 260, 80), "green": (150, 150, 250, 230)}
    for d in dets:
        assert d.box_xyxy_px.dtype == np.float32 and d.box_xyxy_px.shape == (4,)
        np.testing.assert_allclose(d.box_xyxy_px, expected[d.label], atol=BOX_TOL_PX)
        assert d.class_id == COLOR_CLASSES.index(d.label)
        assert d.score == pytest.approx(1.0) and d.mask is None
    scores = [d.score for d in dets]
    assert scores == sorted(scores, reverse=True)


def test_nms_is_class_aware_and_suppresses_duplicates_of_a_class(models: dict[str, Path]) -> None:
    # 640 x 480 into 512 x 512 (0.8x): the model's box window (+-128 input px) is +-160 image px, so
    # same-colour regions farther apart than that are separate objects to it.
    img = background(480, 640, seed=1)
    # Red partly under blue: their boxes overlap by IoU 0.39, above the NMS threshold below.
    paint(img, "red", 40, 40, 120, 120)
    paint(img, "blue", 60, 60, 140, 140)
    # Two more red regions far apart: same class, no overlap, both stay.
    paint(img, "red", 400, 40, 460, 100)
    paint(img, "red", 420, 330, 480, 400)
    with load_detector(models["dynamic"], input_size=512, iou_threshold=0.3) as det:
        dets = det.detect(img)
    found = by_label(dets)
    assert len(found["blue"]) == 1 and len(found["red"]) == 3
    boxes = sorted(tuple(np.round(d.box_xyxy_px).astype(int)) for d in found["red"])
    assert boxes == [(40, 40, 120, 120), (400, 40, 460, 100), (420, 330, 480, 400)]
    np.testing.assert_allclose(found["blue"][0].box_xyxy_px, (60, 60, 140, 140), atol=BOX_TOL_PX)


def test_confidence_threshold_and_max_detections(models: dict[str, Path]) -> None:
    img = background(240, 320, seed=2)
    paint(img, "red", 40, 50, 120, 110)
    # A thin green stripe: its best anchors see 3/8 of their neighbourhood green -> score ~0.38 (the
    # neighbourhood is 16 input px = 40 image px, the stripe 15 image px = 6 input px).
    paint(img, "green", 200, 60, 215, 200)
    with load_detector(models["detect_meta"], conf_threshold=0.2) as det:
        low = by_label(det.detect(img))
    assert set(low) == {"red", "green"}
    assert 0.2 < low["green"][0].score < 0.5
    with load_detector(models["detect_meta"], conf_threshold=0.5) as det:
        assert [d.label for d in det.detect(img)] == ["red"]
    with load_detector(models["detect_meta"], conf_threshold=0.2, max_detections=1) as det:
        assert [d.label for d in det.detect(img)] == ["red"]  # the best one
    with load_detector(models["detect_meta"]) as det:
        assert det.detect(background(240, 320, seed=3)) == []


def test_letterbox_pads_the_short_side_and_boxes_come_back_for_portrait_images(models: dict[str, Path]) -> None:
    blob, lb = letterbox(np.zeros((320, 160, 3), np.uint8), (128, 128))
    assert blob.shape == (1, 3, 128, 128) and blob.dtype == np.float32
    assert (lb.pad_x, lb.pad_y, lb.scale_x, lb.scale_y) == (32, 0, 0.4, 0.4)
    assert np.allclose(blob[0, :, :, :32], 114 / 255) and np.allclose(blob[0, :, :, 32:96], 0)
    img = background(320, 160, seed=4)
    paint(img, "blue", 20, 200, 100, 290)
    with load_detector(models["detect_meta"]) as det:
        (d,) = det.detect(img)
    assert d.label == "blue"
    np.testing.assert_allclose(d.box_xyxy_px, (20, 200, 100, 290), atol=BOX_TOL_PX)


def test_dynamic_input_uses_metadata_imgsz_or_the_option(models: dict[str, Path]) -> None:
    img = scene()
    with load_detector(models["dynamic"]) as det:
        assert det.input_hw == (256, 256)  # the model's metadata imgsz
        at_256 = {d.label: d.box_xyxy_px for d in det.detect(img)}
    with load_detector(models["dynamic"], input_size=(96, 160)) as det:
        assert det.input_hw == (96, 160)
        at_96x160 = {d.label: d.box_xyxy_px for d in det.detect(img)}
    assert set(at_256) == set(at_96x160) == set(COLOR_CLASSES)
    for label in COLOR_CLASSES:
        # 0.8 and 0.4 scales; at 0.4 the edges at 5 px multiples still land on whole input pixels.
        np.testing.assert_allclose(at_256[label], at_96x160[label], atol=2 * BOX_TOL_PX)


def test_segmentation_masks_follow_the_visible_region_inside_the_box(models: dict[str, Path]) -> None:
    img = background(240, 320, seed=5)
    paint(img, "red", 40, 40, 120, 120)
    paint(img, "blue", 80, 80, 160, 160)  # covers red's lower right quarter
    yy, xx = np.mgrid[:240, :320]
    disc = (xx + 0.5 - 240) ** 2 + (yy + 0.5 - 120) ** 2 <= 50**2
    img[disc] = (20, 230, 20)
    with load_detector(models["segment"]) as det:
        assert det.has_masks
        found = {d.label: d for d in det.detect(img)}
    red = np.zeros((240, 320), bool)
    red[40:120, 40:120] = True
    blue = np.zeros_like(red)
    blue[80:160, 80:160] = True
    red &= ~blue
    # Prototypes are colour fractions of 4 x 4 input blocks, 10 x 10 image px at 0.4x: edges on the
    # block grid come back exact but for rounded corners (bilinear sampling), a disc within ~half a block.
    for label, region, least_iou in (("red", red, 0.97), ("blue", blue, 0.97), ("green", disc, 0.9)):
        mask = found[label].mask
        assert mask is not None and mask.shape == (240, 320) and mask.dtype == bool
        assert iou(mask, region) > least_iou, label
        x1, y1, x2, y2 = found[label].box_xyxy_px
        ys, xs = np.nonzero(mask)
        assert xs.min() >= x1 - 0.5 and xs.max() + 1 <= x2 + 0.5 and ys.min() >= y1 - 0.5 and ys.max() + 1 <= y2 + 0.5
    # Red's box is its full square, its mask the L-shape blue left visible.
    np.testing.assert_allclose(found["red"].box_xyxy_px, (40, 40, 120, 120), atol=BOX_TOL_PX)
    assert found["red"].mask[100, 100] == np.False_ and found["red"].mask[50, 50] == np.True_
    np.testing.assert_allclose(found["green"].box_xyxy_px, (190, 70, 290, 170), atol=BOX_TOL_PX)


def assert_same_detections(a: list[Detection2D], b: list[Detection2D]) -> None:
    """The scene's three regions found by both, with the same labels, boxes, scores and masks."""
    assert [d.label for d in a] == [d.label for d in b] and len(a) == 3
    for da, db in zip(a, b, strict=True):
        np.testing.assert_allclose(da.box_xyxy_px, db.box_xyxy_px, atol=1e-3)
        assert da.score == pytest.approx(db.score, abs=1e-5)
        assert iou(da.mask, db.mask) > 0.99


def test_torchscript_backend_gives_what_onnx_gives(models: dict[str, Path]) -> None:
    img = scene()
    with load_detector(models["torchscript"], device="cpu") as ts, load_detector(models["segment"]) as ox:
        assert isinstance(ts, TorchScriptDetector)
        assert ts.labels == COLOR_CLASSES  # from the archive's config.txt
        assert ts.input_hw == (128, 128) and ts.has_masks and ts.device == "cpu"
        a, b = ts.detect(img), ox.detect(img)
    assert_same_detections(a, b)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (run on a GPU host)")
def test_torchscript_detector_on_cuda_gives_what_the_cpu_gives(models: dict[str, Path]) -> None:
    """The default device ("auto") runs a TorchScript model on CUDA when torch sees a GPU, with the
    same boxes, scores and masks as on the CPU (float32 on both; the tolerances are the CPU/ONNX
    comparison's)."""
    img = scene()
    with load_detector(models["torchscript"]) as gpu, load_detector(models["torchscript"], device="cpu") as cpu:
        assert gpu.device == "cuda" and cpu.device == "cpu"
        a, b = gpu.detect(img), cpu.detect(img)
    assert_same_detections(a, b)


def test_labels_come_from_the_file_then_the_model_metadata_then_class_indices(
    models: dict[str, Path], tmp_path: Path
) -> None:
    with load_detector(models["detect"]) as det:
        assert det.labels == ("class_0", "class_1", "class_2")
    with load_detector(models["detect_meta"]) as det:
        assert det.labels == COLOR_CLASSES
    yaml_file = tmp_path / "data.yaml"
    yaml_file.write_text("path: x\nnames:\n  0: rouge\n  1: vert\n  2: bleu\n")
    with load_detector(models["detect_meta"], yaml_file) as det:
        assert det.labels == ("rouge", "vert", "bleu")
        assert {d.label for d in det.detect(scene())} == {"rouge", "vert", "bleu"}
    json_file = tmp_path / "names.json"
    json_file.write_text(json.dumps({"names": ["r", "g", "b"]}))
    assert read_labels(json_file) == ["r", "g", "b"]
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    assert read_labels(tmp_path / "list.yaml") == ["a", "b"]
    # An empty labels_path (the config's "use the model's") is no label file.
    with load_detector(DetectorOptions(model_path=models["detect_meta"], labels_path="")) as det:
        assert det.labels == COLOR_CLASSES


def test_load_detector_takes_options_as_the_session_builds_them(models: dict[str, Path], labels_txt: Path) -> None:
    opts = DetectorOptions(model_path=str(models["detect"]), labels_path=str(labels_txt), conf_threshold=0.35)
    with load_detector(opts) as det:
        assert isinstance(det, Detector) and det.options == opts
        assert len(det.detect(scene())) == 3
    with load_detector(opts, max_detections=2) as det:
        assert det.options.max_detections == 2 and len(det.detect(scene())) == 2
    with OnnxYoloDetector.create_from_options(opts) as det:
        assert "3 classes" in repr(det)


# --- bad inputs -------------------------------------------------------------------------------------


class _Rank2(torch.nn.Module):
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.mean(dim=(2, 3))  # (1, 3)


class _Transposed(torch.nn.Module):
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return ColorBlobYolo()(images).transpose(1, 2)  # (1, anchors, 7)


class _BadProtos(torch.nn.Module):
    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pred, protos = ColorBlobYolo(segment=True)(images)
        return pred, protos[:, :, 0]  # (1, 32, W/4)


class _GrayInput(torch.nn.Module):
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return ColorBlobYolo()(images.expand(-1, 3, -1, -1))


def test_missing_files_and_unknown_types_are_named(tmp_path: Path, models: dict[str, Path]) -> None:
    with pytest.raises(NotFoundError, match="model_path: .*nowhere.onnx not found") as e:
        load_detector(tmp_path / "nowhere.onnx")
    assert e.value.metadata["field"] == "model_path"
    with pytest.raises(NotFoundError, match="labels_path: .*nowhere.txt not found"):
        load_detector(models["detect"], tmp_path / "nowhere.txt")
    (tmp_path / "model.tflite").write_bytes(b"x")
    with pytest.raises(InvalidArgumentError, match=r"model_path: model.tflite: unknown model type '.tflite'") as ia:
        load_detector(tmp_path / "model.tflite")
    assert ia.value.violations[0].field == "model_path"
    (tmp_path / "garbage.onnx").write_bytes(b"not a protobuf")
    with pytest.raises(InvalidArgumentError, match="garbage.onnx is not a model onnxruntime can load"):
        load_detector(tmp_path / "garbage.onnx")
    torch.save({"model": torch.zeros(2)}, tmp_path / "checkpoint.pt")
    with pytest.raises(InvalidArgumentError, match="checkpoint.pt is not a TorchScript archive"):
        load_detector(tmp_path / "checkpoint.pt")


def test_wrong_layouts_name_what_was_expected(tmp_path: Path, labels_txt: Path) -> None:
    with pytest.raises(InvalidArgumentError, match=r"output 0 is \(1, 3\); expected the Ultralytics YOLO layout"):
        load_detector(export_onnx(tmp_path / "rank2.onnx", _Rank2()))
    with pytest.raises(
        InvalidArgumentError, match=r"3 classes .* \(1, 768, 7\).*transposed: expected \(1, 7, anchors\)"
    ):
        load_detector(export_onnx(tmp_path / "transposed.onnx", _Transposed()), labels_txt)
    with pytest.raises(InvalidArgumentError, match=r"output 1 is \(1, 32, 32\); expected mask prototypes"):
        load_detector(export_onnx(tmp_path / "protos.onnx", _BadProtos()))
    with pytest.raises(InvalidArgumentError, match=r"takes images \[1, 1, 128, 128\]; expected one input"):
        load_detector(export_onnx(tmp_path / "gray.onnx", _GrayInput(), channels=1))
    with pytest.raises(InvalidArgumentError, match=r"batch2.onnx does not run on a \(1, 3, 128, 128\) input"):
        load_detector(export_onnx(tmp_path / "batch2.onnx", batch=2))
    with pytest.raises(InvalidArgumentError, match="a segmentation model without a mask prototype output"):
        load_detector(export_onnx(tmp_path / "task.onnx", metadata={"task": "segment"}))
    with pytest.raises(InvalidArgumentError, match="is a YOLO 'pose' model"):
        load_detector(export_onnx(tmp_path / "pose.onnx", metadata={"task": "pose"}))


def test_label_count_mismatch_names_both_counts(tmp_path: Path, models: dict[str, Path]) -> None:
    two = tmp_path / "two.txt"
    two.write_text("red\ngreen\n")
    with pytest.raises(InvalidArgumentError, match=r"label file names 2 classes but .* 4 box \+ 3 class rows") as e:
        load_detector(models["detect"], two)
    assert e.value.violations[0].field == "labels_path"
    with pytest.raises(InvalidArgumentError, match=r"3 class \+ 32 mask coefficient rows"):
        load_detector(models["segment"], two)
    bad_meta = export_onnx(tmp_path / "meta4.onnx", metadata={"names": {0: "a", 1: "b", 2: "c", 3: "d"}})
    with pytest.raises(InvalidArgumentError, match="its metadata names 4 classes") as e:
        load_detector(bad_meta)
    assert e.value.violations[0].field == "model_path"
    holes = tmp_path / "holes.yaml"
    holes.write_text("names:\n  0: a\n  2: c\n")
    with pytest.raises(InvalidArgumentError, match="indices 0..n-1"):
        load_detector(models["detect"], holes)
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(InvalidArgumentError, match="holds no labels"):
        load_detector(models["detect"], tmp_path / "empty.txt")


def test_bad_options_and_images(models: dict[str, Path]) -> None:
    with pytest.raises(InvalidArgumentError, match="conf_threshold: must be in 0..1"):
        DetectorOptions(model_path="m.onnx", conf_threshold=1.5)
    with pytest.raises(InvalidArgumentError, match="device: must be one of auto, cpu, cuda"):
        DetectorOptions(model_path="m.onnx", device="tpu")
    with pytest.raises(InvalidArgumentError, match="max_detections"):
        DetectorOptions(model_path="m.onnx", max_detections=0)
    with pytest.raises(InvalidArgumentError, match="input_size"):
        DetectorOptions(model_path="m.onnx", input_size=(0, 640))
    with pytest.raises(InvalidArgumentError, match="model_path: is required"):
        DetectorOptions(model_path="")
    with pytest.raises(InvalidArgumentError, match="takes a fixed 128x128 input, not 256x256"):
        load_detector(models["detect"], input_size=256)
    with pytest.raises(InvalidArgumentError, match="not a multiple of .* stride 32"):
        load_detector(
            export_onnx(models["dynamic"].with_name("stride.onnx"), dynamic=True, metadata={"stride": 32}),
            input_size=100,
        )
    with load_detector(models["detect"]) as det:
        for bad in (np.zeros((240, 320), np.uint8), np.zeros((240, 320, 3), np.float32), np.zeros((0, 5, 3), np.uint8)):
            with pytest.raises(InvalidArgumentError, match=r"image: must be \(h, w, 3\) uint8 RGB"):
                det.detect(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_cuda_without_cuda_is_a_failed_precondition(models: dict[str, Path]) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(FailedPreconditionError, match="no CUDAExecutionProvider"):
            load_detector(models["detect"], device="cuda")
    with pytest.raises(FailedPreconditionError, match="torch sees no CUDA device"):
        load_detector(models["torchscript"], device="cuda")
