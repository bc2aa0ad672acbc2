"""Valid ONNX files that are not style networks are refused when opened, on every backend, in one
line that says what is wrong (not a traceback mid-run, not a 1x1 'picture')."""
import numpy as np
import pytest

from stylecast.cli import main
from stylecast.errors import StylecastError
from stylecast.realtime.runtimes.backends import open_backend

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402


def _save(path, nodes, inputs, outputs, inits=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _float(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


MODELS = {
    "other_names": lambda p: _save(p, [helper.make_node("Identity", ["x"], ["y"])], [_float("x", ["n", 3, "h", "w"])],
                                   [_float("y", ["n", 3, "h", "w"])]),
    "classifier": lambda p: _save(p, [helper.make_node("ReduceMean", ["input"], ["m"], axes=[2, 3], keepdims=0),
                                      helper.make_node("MatMul", ["m", "W"], ["output"])],
                                  [_float("input", [1, 3, "h", "w"])], [_float("output", [1, 1000])],
                                  [helper.make_tensor("W", TensorProto.FLOAT, [3, 1000], np.zeros(3000, np.float32))]),
    "pooled": lambda p: _save(p, [helper.make_node("GlobalAveragePool", ["input"], ["output"])],
                              [_float("input", [1, 3, "h", "w"])], [_float("output", [1, 3, 1, 1])]),
    "fixed_224": lambda p: _save(p, [helper.make_node("Identity", ["input"], ["output"])],
                                 [_float("input", [1, 3, 224, 224])], [_float("output", [1, 3, 224, 224])]),
    "uint8": lambda p: _save(p, [helper.make_node("Identity", ["input"], ["output"])],
                             [_float("input", [1, 3, "h", "w"], TensorProto.UINT8)], [_float("output", [1, 3, "h", "w"], TensorProto.UINT8)]),
    "one_channel": lambda p: _save(p, [helper.make_node("Identity", ["input"], ["output"])],
                                   [_float("input", [1, 1, "h", "w"])], [_float("output", [1, 1, "h", "w"])]),
}
SAID = {"other_names": "not 'input'", "classifier": "not a 3-channel image", "pooled": "not a picture of the input's size",
        "fixed_224": "frames of one size only", "uint8": "is not float", "one_channel": "not a 3-channel image"}


@pytest.mark.parametrize("backend", ["cpu", "openvino"])
@pytest.mark.parametrize("kind", list(MODELS))
def test_refused_when_opened(tmp_path, kind, backend):
    if backend == "openvino":
        pytest.importorskip("openvino")
    path = MODELS[kind](tmp_path / f"{kind}.onnx")
    with pytest.raises(StylecastError) as e:
        open_backend(path, (backend,))
    message = str(e.value)
    assert "is not a style network" in message and SAID[kind] in message and "\n" not in message


def test_image_with_a_classifier_is_one_line_and_writes_nothing(tmp_path, photo_path, capsys):
    path = MODELS["pooled"](tmp_path / "pooled.onnx")
    out = tmp_path / "out.png"
    assert main(["image", str(photo_path), "-s", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a style network" in err and not out.exists()


def test_openvino_parse_errors_read_like_onnxruntimes(tmp_path):
    pytest.importorskip("openvino")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07" + b"garbage" * 50)
    with pytest.raises(StylecastError) as e:
        open_backend(bad, ("openvino",))
    message = str(e.value)
    assert message.startswith(f"cannot load style model {bad}: it is corrupt or not an ONNX model (")
    assert "core.cpp" not in message and "Exception from" not in message
