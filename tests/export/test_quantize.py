"""`stylecast quantize`: int8 copies of real shipped styles, and OpenVINO choosing (or refusing) them."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from stylecast.contract import int8_path
from stylecast.errors import StylecastError
from tests.conftest import OPENCV_DATA

pytest.importorskip("openvino")

PHOTOS = ["fruits", "baboon", "building", "butterfly", "home", "messi5", "orange", "apple", "squirrel_cls",
          "aero1", "aero3", "HappyFish", "leuvenA", "leuvenB"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for name in PHOTOS:
        src = OPENCV_DATA / f"{name}.jpg"
        if not src.exists():
            pytest.skip("apt-get install opencv-doc")
        (folder / src.name).symlink_to(src)
    return folder


@pytest.fixture(scope="module")
def style_copy(tmp_path_factory) -> Path:
    """The bundled real-time style (trained weights, width 8) with its thumbnail, in a folder of its own."""
    from stylecast.styles import resolve_style

    src = resolve_style("cafe_terrace_rt")
    folder = tmp_path_factory.mktemp("style")
    for suffix in (".onnx", ".jpg"):
        shutil.copy(src.with_suffix(suffix), folder / f"cafe_terrace_rt{suffix}")
    return folder / "cafe_terrace_rt.onnx"


@pytest.fixture(scope="module")
def quantized(style_copy: Path, photos: Path):
    pytest.importorskip("nncf")
    from stylecast.export.quantize import quantize_model

    return quantize_model(style_copy, photos, limit=8)


def _ov(path: Path, precision: str):
    from stylecast.realtime.runtimes.openvino_backend import OpenVinoBackend
    from stylecast.realtime.runtimes.stylizer import Stylizer

    return Stylizer(OpenVinoBackend(path, precision=precision))


def test_int8_copy_is_written_beside_the_model_and_stays_close_to_fp32(quantized, style_copy, photo_bgr):
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.precision import psnr

    assert quantized.path == int8_path(style_copy) == style_copy.with_name("cafe_terrace_rt.int8.onnx")
    assert quantized.images == 8 and quantized.psnr_db >= 35
    # A frame size the calibration never saw: height and width stay dynamic.
    frame = np.ascontiguousarray(photo_bgr[:240, :320])
    int8, fp32 = _ov(style_copy, "int8")(frame), _ov(style_copy, "f32")(frame)
    assert int8.shape == frame.shape and psnr(int8, fp32) >= 35
    assert psnr(int8, frame) < 20  # still a stylization, not the photo passed through
    # The card and contract travel with it, and onnxruntime loads it too.
    plain = OnnxRuntimeBackend(quantized.path)
    assert plain.card.name == "cafe_terrace_rt" and plain.card.width == 8


def test_openvino_picks_the_int8_copy_and_falls_back_when_it_is_off(quantized, style_copy, monkeypatch):
    import openvino as ov

    from stylecast.realtime.runtimes import backends, precision

    if "INT8" not in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        pytest.skip("this CPU has no int8 in OpenVINO")
    choice = backends.open_backend(style_copy, ("openvino",))
    assert choice.backend.precision == "int8" and "int8 copy" in choice.reason and "dB PSNR" in choice.reason
    monkeypatch.setattr(precision, "MIN_PSNR_DB", 1000.0)  # nothing reduced can pass: int8 (and bf16) are refused
    choice = backends.open_backend(style_copy, ("openvino",))
    assert choice.backend.precision != "int8" and "int8 not used" in choice.reason


def test_quantize_refuses_to_overwrite_and_leaves_nothing_when_quality_is_short(quantized, style_copy, photos, tmp_path, monkeypatch):
    from stylecast.export import quantize
    from stylecast.realtime.runtimes import precision

    with pytest.raises(StylecastError, match="exists"):
        quantize.quantize_model(style_copy, photos, limit=8)
    with pytest.raises(StylecastError, match="overwrite its input"):
        quantize.quantize_model(style_copy, photos, out=style_copy, overwrite=True)
    monkeypatch.setattr(precision, "MIN_PSNR_DB", 1000.0)
    out = tmp_path / "x.int8.onnx"
    with pytest.raises(StylecastError, match="too differently"):
        quantize.quantize_model(style_copy, photos, out=out, limit=8)
    assert list(tmp_path.iterdir()) == []


def test_quantize_cli_errors_are_one_line(style_copy, tmp_path, capsys, monkeypatch):
    from stylecast.cli import main

    (tmp_path / "empty").mkdir()
    assert main(["quantize", str(style_copy), "--data", str(tmp_path / "empty"), "-o", str(tmp_path / "a.onnx")]) != 0
    err = capsys.readouterr().err
    assert "no images" in err and "Traceback" not in err and err.count("\n") == 1
    # not an ONNX name: runtimes would not take it; said before calibrating
    assert main(["quantize", str(style_copy), "--data", str(tmp_path / "empty"), "-o", str(tmp_path / "a.txt")]) == 2
    err = capsys.readouterr().err
    assert "must end in .onnx" in err and err.count("\n") == 1
    monkeypatch.setitem(sys.modules, "nncf", None)  # as if the [int8] extra were not installed
    assert main(["quantize", str(style_copy), "--data", str(tmp_path), "-o", str(tmp_path / "b.onnx")]) != 0
    assert "stylecast[int8]" in capsys.readouterr().err


def test_bench_times_int8_beside_bf16(quantized, style_copy):
    from stylecast.realtime.bench import bench_backends

    rows = bench_backends(style_copy, ["openvino:int8", "openvino:f32", "openvino:f32"], [(64, 48)], runs=2, warmup=1, baseline=False)
    assert [(r.backend, r.precision) for r in rows] == [("openvino", "int8"), ("openvino", "f32")]  # duplicates dropped
    assert rows[0].psnr_db >= 35


def test_a_float_network_rebuilt_from_the_int8_copy_paints_as_the_float_one(quantized, style_copy, photo_bgr):
    """How the bundled styles ship: int8 only, the float network rebuilt from its weights (W8A32)."""
    import onnx
    from onnx import numpy_helper

    from stylecast.export.dequantize import float_from_int8
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.precision import psnr
    from stylecast.realtime.runtimes.stylizer import Stylizer

    int8 = onnx.load(str(quantized.path))
    rebuilt = float_from_int8(int8)
    onnx.checker.check_model(rebuilt)
    assert not {"QuantizeLinear", "DequantizeLinear"} & {n.op_type for n in rebuilt.graph.node}
    # each int8 weight comes back as exactly (q - zero) * scale, per output channel
    values = {t.name: numpy_helper.to_array(t) for t in int8.graph.initializer}
    floats = {t.name: numpy_helper.to_array(t) for t in rebuilt.graph.initializer}
    checked = 0
    for node in int8.graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in values and values[node.input[0]].ndim == 4:
            q, scale = values[node.input[0]].astype(np.float32), values[node.input[1]]
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1, 1, 1, 1]
            shape[axis] = -1
            assert np.array_equal(floats[node.output[0]], q * scale.reshape(shape))
            checked += 1
    assert checked >= 5
    path = style_copy.with_name("rebuilt.onnx")
    onnx.save(rebuilt, str(path))
    frame = np.ascontiguousarray(photo_bgr[:240, :320])
    original, back = (Stylizer(OnnxRuntimeBackend(p))(frame) for p in (style_copy, path))
    int8_painting = Stylizer(OnnxRuntimeBackend(quantized.path))(frame)
    assert psnr(back, original) >= 40 and psnr(back, original) > psnr(int8_painting, original)
    assert OnnxRuntimeBackend(path).card.name == "cafe_terrace_rt"  # metadata kept


def test_a_multi_style_network_keeps_its_mix_in_float_and_its_convolutions_in_int8(photos, tmp_path):
    """The mix's per-channel scale and shift stay float (quantizing their inputs cost two extra passes
    over every normed activation); each convolution still reads int8."""
    pytest.importorskip("nncf")
    import onnx

    from stylecast.export.quantize import quantize_model
    from stylecast.styles import resolve_style

    model = tmp_path / "paintings_rt.onnx"
    shutil.copy(resolve_style("paintings_rt"), model)
    report = quantize_model(model, photos, limit=2, check=2)
    assert report.psnr_db >= 35
    graph = onnx.load(str(report.path)).graph
    producer = {name: node for node in graph.node for name in node.output}
    quantized_from = {producer[n.input[0]].op_type for n in graph.node
                      if n.op_type == "QuantizeLinear" and n.input[0] in producer}
    assert not quantized_from & {"Mul", "MatMul", "InstanceNormalization", "Div", "ReduceSum"}
    convs = [n for n in graph.node if n.op_type in ("Conv", "ConvTranspose")]
    assert len(convs) >= 10

    def source(node):  # through pads and reshapes (the shuffle ends), which move int8 as well as float
        while (node := producer[node.input[0]]).op_type in ("Pad", "Reshape", "Transpose", "Squeeze", "Unsqueeze"):
            pass
        return node.op_type

    assert all(source(n) == "DequantizeLinear" for n in convs)
