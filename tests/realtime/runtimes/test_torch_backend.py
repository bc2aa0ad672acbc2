"""The PyTorch runtime: the ONNX file's network recovered and run, frame in, frame out.

On a CPU machine it runs on the CPU (by name only); the CUDA test runs where torch sees a GPU
(benchmarks/gpu_check.sh runs this file on the device machine).
"""
import cv2
import numpy as np
import pytest

import stylecast.realtime.runtimes.backends as backends
from stylecast.realtime.runtimes import cuda
from stylecast.errors import StylecastError
from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
from stylecast.realtime.runtimes.precision import psnr
from stylecast.realtime.runtimes.stylizer import Stylizer

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
from stylecast.realtime.runtimes.torch_backend import TorchBackend  # noqa: E402


@pytest.fixture(scope="module")
def shipped_style():
    from stylecast.styles import bundled_styles

    styles = {s.name: s for s in bundled_styles()}
    if "starry_night_lite_rt" not in styles:
        pytest.skip("no bundled starry_night_lite_rt")
    return styles["starry_night_lite_rt"]


def test_torch_paints_what_onnxruntime_paints(tiny_model, shipped_style, photo_bgr):
    frame = np.ascontiguousarray(photo_bgr[:241, :319])  # odd sides: padded and cropped around the network
    for model in (tiny_model, shipped_style.model):
        reference = Stylizer(OnnxRuntimeBackend(model))(frame)
        painted = Stylizer(TorchBackend(model, "cpu", "fp32"))(frame)
        assert painted.shape == frame.shape and painted.dtype == np.uint8
        # the same function: at most one grey level apart where fp32 sums round the other way
        assert np.abs(painted.astype(int) - reference).max() <= 1
        assert psnr(painted, reference) > 60
    x = np.random.default_rng(5).uniform(0, 255, (1, 3, 48, 64)).astype(np.float32)
    np.testing.assert_allclose(TorchBackend(tiny_model, "cpu", "fp32").run(x), OnnxRuntimeBackend(tiny_model).run(x), atol=0.05)


def test_each_torch_frame_is_a_new_array(shipped_style, photo_bgr):
    backend = TorchBackend(shipped_style.model, "cpu", "fp32")
    stylize = Stylizer(backend)
    first = stylize(photo_bgr[:64, :96].copy())
    kept = first.copy()
    second = stylize(photo_bgr[64:128, :96].copy())
    assert np.array_equal(first, kept)  # sinks and smoothing still hold the earlier frame
    assert not np.array_equal(first, second)


def test_inductor_paints_what_eager_torch_paints(tiny_model, photo_bgr):
    frame = np.ascontiguousarray(photo_bgr[:61, :83])  # odd sides, as a camera of any size gives
    eager = Stylizer(TorchBackend(tiny_model, "cpu", "fp32"))(frame)
    backend = TorchBackend(tiny_model, "cpu", "fp32", compiled=True)
    painted = Stylizer(backend)(frame)
    assert backend.compile_error is None and "inductor" in backend.providers[0]
    assert np.abs(painted.astype(int) - eager).max() <= 1  # fused kernels sum in another order, nothing more
    assert psnr(painted, eager) > 60


def test_inductor_that_cannot_compile_paints_eagerly_and_says_why(tiny_model, shipped_style, photo_bgr, monkeypatch):
    def no_compiler(fn, **options):
        def fails(*args):
            raise RuntimeError("Compiler: cc not found\nmore lines")
        return fails

    monkeypatch.setattr(torch, "compile", no_compiler)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    frame = np.ascontiguousarray(photo_bgr[:64, :96])
    choice = backends.open_torch(tiny_model, named=True, compiled=True)
    painted = Stylizer(choice.backend)(frame)
    assert choice.backend.compile_error == "RuntimeError: Compiler: cc not found"
    assert np.array_equal(painted, Stylizer(TorchBackend(tiny_model, "cpu", "fp32"))(frame))
    # the reason is written when the backend opens: on a GPU the fp16 check on the style's picture compiles first
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Pretend GPU")
    monkeypatch.setattr(backends, "_torch_may_see_a_gpu", lambda: True)

    class OnCpu(TorchBackend):
        def __init__(self, model_path, device="cuda", precision="fp16", cuda_graphs=True, compiled=False):
            super().__init__(model_path, "cpu", "fp32", cuda_graphs=False, compiled=compiled)

    monkeypatch.setattr("stylecast.realtime.runtimes.torch_backend.TorchBackend", OnCpu)
    assert "not compiled (RuntimeError: Compiler: cc not found)" in backends.open_torch(shipped_style.model, compiled=True).reason


def test_torch_by_name_runs_on_the_cpu_and_says_so(shipped_style, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    choice = open_backend(shipped_style.model, ("torch",))
    assert choice.backend.name == "torch" and choice.backend.device.type == "cpu"
    assert "no CUDA GPU" in choice.reason


def test_auto_skips_torch_without_a_gpu(tiny_model, monkeypatch):
    monkeypatch.setattr(cuda, "cuda_available", lambda: (False, "this onnxruntime has no CUDA provider"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(backends, "_torch_may_see_a_gpu", lambda: True)  # the driver is there, torch's CUDA is not
    choice = open_backend(tiny_model)
    assert choice.backend.name in ("openvino", "cpu")
    assert "torch sees no CUDA GPU" in choice.reason


def test_torch_refuses_a_model_stylecast_did_not_export(tmp_path, monkeypatch):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["input"], ["output"])], "plain",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, None, None])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, None, None])])
    path = tmp_path / "foreign.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(StylecastError, match="no stylecast style card"):
        open_backend(path, ("torch",))


def test_torch_fp16_falls_back_to_fp32_when_quality_is_short(shipped_style, monkeypatch):
    """The CUDA choice without a GPU: torch told it has one, each backend built on the CPU instead."""
    built = []

    class OnCpu(TorchBackend):
        def __init__(self, model_path, device="cuda", precision="fp16", cuda_graphs=True, compiled=False):
            built.append(precision)
            super().__init__(model_path, "cpu", "bf16" if precision == "fp16" else precision, cuda_graphs=False)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Pretend GPU")
    monkeypatch.setattr(backends, "_torch_may_see_a_gpu", lambda: True)
    monkeypatch.setattr("stylecast.realtime.runtimes.torch_backend.TorchBackend", OnCpu)
    choice = open_backend(shipped_style.model, ("torch",))
    assert built == ["fp16", "fp32"] and "dB PSNR against fp32" in choice.reason  # reduced precision checked on the style's picture
    assert "Pretend GPU" in choice.reason
    built.clear()
    monkeypatch.setattr(backends, "reduced_psnr", lambda reduced, full, path: 30.0)
    choice = open_backend(shipped_style.model, ("torch",))
    assert built == ["fp16", "fp32", "fp32"] and choice.backend.precision == "fp32" and "fp16 gave 30.0 dB" in choice.reason


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_graph_frames_match_eager_fp32(shipped_style, photo_bgr):
    frame = cv2.resize(photo_bgr, (640, 480))
    eager = Stylizer(TorchBackend(shipped_style.model, "cuda", "fp32", cuda_graphs=False))(frame)
    backend = TorchBackend(shipped_style.model, "cuda", "fp16")
    stylize = Stylizer(backend)
    first = stylize(frame)
    assert backend.graph_error is None and len(backend._graphs) == 1
    assert psnr(first, eager) >= 35
    kept = first.copy()
    stylize(frame[::-1].copy())  # a replay writes the same device buffer: the host copy must not change
    assert np.array_equal(first, kept)
    assert np.array_equal(stylize(frame), first)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_inductor_frames_in_a_cuda_graph_match_eager_fp32(shipped_style, photo_bgr):
    frame = cv2.resize(photo_bgr, (640, 480))
    eager = Stylizer(TorchBackend(shipped_style.model, "cuda", "fp32", cuda_graphs=False))(frame)
    backend = TorchBackend(shipped_style.model, "cuda", "fp16", compiled=True)
    stylize = Stylizer(backend)
    first = stylize(frame)
    assert backend.compile_error is None and backend.graph_error is None and len(backend._graphs) == 1
    assert psnr(first, eager) >= 35
    assert np.array_equal(stylize(frame), first)
