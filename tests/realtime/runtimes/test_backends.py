import importlib.util

import cv2
import numpy as np
import pytest

import stylecast.realtime.runtimes.backends as backends
from stylecast.realtime.runtimes import cuda, precision
from stylecast.errors import StylecastError
from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
from stylecast.realtime.runtimes.stylizer import Stylizer


def _without_cuda(monkeypatch):
    """Behave as on a machine whose onnxruntime has no CUDA provider, also when run on a GPU machine."""
    monkeypatch.setattr(cuda, "cuda_available", lambda: (False, "this onnxruntime has no CUDA provider"))


def test_auto_never_picks_cuda_without_a_cuda_provider(tiny_model, monkeypatch):
    _without_cuda(monkeypatch)
    choice = open_backend(tiny_model)
    assert choice.backend.name in ("openvino", "cpu")
    assert "CUDAExecutionProvider" not in choice.backend.providers
    assert "CUDA" in choice.reason  # says why CUDA was skipped


def test_explicit_cuda_without_gpu_is_a_clear_error(tiny_model, monkeypatch):
    _without_cuda(monkeypatch)
    with pytest.raises(StylecastError, match="CUDA backend unavailable"):
        open_backend(tiny_model, ("cuda",))


def test_cuda_that_silently_runs_on_cpu_is_refused(tiny_model, monkeypatch):
    """onnxruntime can list CUDA yet create a CPU-only session: get_providers() tells the truth."""
    monkeypatch.setattr(cuda, "cuda_available", lambda: (True, "pretend"))
    with pytest.raises(StylecastError, match="would run on CPU"):
        open_backend(tiny_model, ("cuda",))
    # auto falls through to the next backend instead
    choice = open_backend(tiny_model, ("cuda", "cpu"))
    assert choice.backend.name == "cpu" and "would run on CPU" in choice.reason


def test_two_onnxruntime_installs_are_reported(monkeypatch):
    ort = pytest.importorskip("onnxruntime")
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(cuda, "onnxruntime_installs", lambda: ["onnxruntime", "onnxruntime-gpu"])
    ok, why = cuda.cuda_available()
    assert not ok and "pip uninstall" in why


def test_falls_back_to_onnxruntime_cpu_without_openvino(tiny_model, monkeypatch):
    real_has = backends._has
    monkeypatch.setattr(backends, "_has", lambda m: False if m == "openvino" else real_has(m))
    choice = open_backend(tiny_model)
    assert choice.backend.name == "cpu" and choice.backend.providers == ("CPUExecutionProvider",)
    assert "openvino" in choice.reason.lower()


def test_no_runtime_at_all_names_the_extras(tiny_model, monkeypatch):
    monkeypatch.setattr(backends, "_has", lambda m: False)
    with pytest.raises(StylecastError, match=r"stylecast\[cpu\]"):
        open_backend(tiny_model)


def test_corrupt_model_is_a_clear_error_for_every_backend(tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 100)
    for prefer in (("cpu",), ("openvino",), ("cuda", "openvino", "cpu")):
        if prefer == ("openvino",):
            pytest.importorskip("openvino")
        with pytest.raises(StylecastError, match="corrupt or not an ONNX model"):
            open_backend(bad, prefer)


def test_backend_reads_contract_and_card_from_metadata(tiny_model):
    backend = OnnxRuntimeBackend(tiny_model)
    assert backend.contract.size_multiple == 4
    assert backend.card is not None and backend.card.name == "tiny"


def test_openvino_agrees_with_onnxruntime(tiny_model, photo_bgr):
    pytest.importorskip("openvino")
    frame = np.ascontiguousarray(photo_bgr[:241, :319])  # odd size on purpose
    cpu = Stylizer(OnnxRuntimeBackend(tiny_model))(frame)
    fp32 = Stylizer(backends.OpenVinoBackend(tiny_model, precision="f32"))(frame)
    auto = Stylizer(backends.OpenVinoBackend(tiny_model))(frame)
    assert cpu.shape == fp32.shape == auto.shape == frame.shape
    assert np.abs(cpu.astype(int) - fp32).max() <= 1
    assert np.abs(cpu.astype(int) - auto).mean() < 2.0  # bf16 where the CPU has it


def test_openvino_leaves_its_threads_unpinned_one_stream_or_several(tiny_model, photo_bgr):
    """Pinned threads wait for the core a camera's decoder holds (benchmarks/pinning.py)."""
    pytest.importorskip("openvino")
    backend = backends.OpenVinoBackend(tiny_model, precision="f32")
    for streams in (1, 2):
        backend.use_streams(streams)
        Stylizer(backend)(photo_bgr[:64, :96])
        compiled = list(backend._compiled.values())
        assert len(compiled) == 1 and compiled[0].get_property("ENABLE_CPU_PINNING") is False


def test_openvino_streams_paint_frames_from_two_threads_as_one_stream_does(photo_bgr):
    from concurrent.futures import ThreadPoolExecutor

    from stylecast.styles import resolve_style

    pytest.importorskip("openvino")
    model = resolve_style("cafe_terrace_rt")  # a real style: each frame's painting is its own
    frames = [np.ascontiguousarray(np.roll(photo_bgr, 37 * i, axis=1)[:240, :320]) for i in range(6)]
    one = backends.OpenVinoBackend(model, precision="f32")
    assert one.parallel_runs() == 1
    expected = [Stylizer(one)(f) for f in frames]
    two = backends.OpenVinoBackend(model, precision="f32")
    two.use_streams(2)
    assert two.parallel_runs() == 2
    stylize = Stylizer(two)
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(stylize, frames))
    for a, b in zip(expected, got):  # each result belongs to its own frame, not the other thread's
        assert np.abs(a.astype(int) - b).max() <= 1
    assert np.abs(expected[0].astype(int) - expected[1]).mean() > 5
    with pytest.raises(ValueError, match="at least 1"):
        two.use_streams(0)


def test_stylizer_keeps_odd_sizes(tiny_model, photo_bgr):
    stylize = Stylizer(OnnxRuntimeBackend(tiny_model))
    frame = np.ascontiguousarray(np.pad(photo_bgr, ((0, 0), (0, 129), (0, 0)), mode="edge")[:479, :641])
    out = stylize(frame)
    assert out.shape == (479, 641, 3) and out.dtype == np.uint8


@pytest.mark.parametrize("style", ["cafe_terrace_rt", "starry_night"])  # shuffle ends and Johnson's 9x9 ends
def test_thumbnails_smaller_than_the_networks_pads_are_painted_at_their_size(style, photo_bgr):
    from stylecast.realtime.runtimes.backends import backend_preference
    from stylecast.styles import resolve_style

    names = ["cpu"] + (["openvino"] if importlib.util.find_spec("openvino") else [])
    for name in names:
        stylize = Stylizer(open_backend(resolve_style(style), backend_preference(name)).backend)
        for h, w in ((1, 1), (3, 3), (5, 40), (7, 7)):
            thumb = cv2.resize(photo_bgr, (w, h), interpolation=cv2.INTER_AREA)
            out = stylize(thumb)
            assert out.shape == (h, w, 3) and out.dtype == np.uint8, (name, h, w)


def test_openvino_bf16_falls_back_to_f32_when_quality_is_short(tiny_model, photo_path, tmp_path, monkeypatch):
    pytest.importorskip("openvino")
    import shutil

    model = tmp_path / "style.onnx"
    shutil.copy(tiny_model, model)
    shutil.copy(photo_path, tmp_path / "style.jpg")  # the picture shipped beside a bundled style
    monkeypatch.setattr(backends.OpenVinoBackend, "__init__", _force_bf16(backends.OpenVinoBackend.__init__))
    monkeypatch.setattr(precision, "MIN_PSNR_DB", 1000.0)  # no real bf16 output can pass this
    choice = open_backend(model, ("openvino",))
    assert choice.backend.precision == "f32" and "PSNR" in choice.reason
    monkeypatch.setattr(precision, "MIN_PSNR_DB", 0.0)
    choice = open_backend(model, ("openvino",))
    assert choice.backend.precision == "bf16" and "dB PSNR against f32" in choice.reason


def _force_bf16(init):
    """Pretend the CPU has native bf16 so the check runs on any machine."""
    def patched(self, model_path, precision="auto"):
        init(self, model_path, "bf16" if precision == "auto" else precision)
    return patched


def test_io_binding_gives_the_same_frames_as_a_plain_run(tiny_model):
    x = np.random.default_rng(3).uniform(0, 255, (1, 3, 48, 64)).astype(np.float32)
    plain = OnnxRuntimeBackend(tiny_model).run(x)
    bound = OnnxRuntimeBackend(tiny_model, io_binding=True)
    np.testing.assert_allclose(bound.run(x), plain, atol=1e-3)
    y = np.random.default_rng(4).uniform(0, 255, (1, 3, 32, 32)).astype(np.float32)  # a new size gets its own buffer
    np.testing.assert_allclose(bound.run(y), OnnxRuntimeBackend(tiny_model).run(y), atol=1e-3)


def test_tensorrt_comes_first_with_fp16_engines_cached(tmp_path, monkeypatch):
    monkeypatch.setattr(cuda, "tensorrt_loadable", lambda: True)
    providers = cuda.gpu_providers(["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"], tmp_path)
    name, options = providers[0]
    assert name == "TensorrtExecutionProvider" and options["trt_fp16_enable"] and options["trt_engine_cache_enable"]
    assert options["trt_engine_cache_path"].startswith(str(tmp_path))
    assert providers[1:] == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert cuda.gpu_providers(["CUDAExecutionProvider", "CPUExecutionProvider"], tmp_path) == providers[1:]
    # listed by onnxruntime-gpu but not installed (seen on an H100 without TensorRT): not asked for
    monkeypatch.setattr(cuda, "tensorrt_loadable", lambda: False)
    assert cuda.gpu_providers(["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"], tmp_path) == providers[1:]


def test_cuda_path_runs_the_fp16_frame_graph_with_io_binding(monkeypatch):
    """Everything the CUDA backend does except the GPU itself: the session is told it has CUDA,
    runs on the CPU, and must get the fp16-compute rewrite of a bundled style with uint8 frames in
    and out, I/O binding, a PSNR check against fp32 on the style's picture, and its fallbacks."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxconverter_common")
    from stylecast.styles import bundled_styles

    styles = bundled_styles()
    if not styles:
        pytest.skip("no bundled style")
    real_session = ort.InferenceSession

    class PretendCuda:
        def __init__(self, model, options=None, providers=None):
            self.inner = real_session(model, options, providers=["CPUExecutionProvider"])
            self.asked = providers

        def get_providers(self):
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(cuda, "cuda_available", lambda: (True, "pretend"))
    monkeypatch.setattr(ort, "InferenceSession", PretendCuda)
    choice = open_backend(styles[0].model, ("cuda",))
    backend = choice.backend
    assert backend.name == "cuda" and backend.precision == "fp16" and backend.io_binding
    assert "CUDAExecutionProvider" in backend.session.asked
    assert "fp16 (" in choice.reason and "dB PSNR" in choice.reason
    # only uint8 frames cross the bus: the host sends the decoded frame and gets the painted one
    assert backend.takes_frames and "uint8 frames" in choice.reason
    assert [i.type for i in backend.session.get_inputs()] == ["tensor(uint8)"]
    photo = cv2.imread(str(styles[0].thumbnail))[:41, :53]  # odd sides: padded and cropped around the graph
    monkeypatch.setattr(ort, "InferenceSession", real_session)
    reference = Stylizer(OnnxRuntimeBackend(styles[0].model))(photo)
    painted = Stylizer(backend)(photo)
    assert painted.shape == photo.shape
    assert np.abs(painted.astype(int) - reference).mean() < 2
    first = painted.copy()
    Stylizer(backend)(photo[::-1].copy())
    assert np.array_equal(painted, first)  # each call paints into a new frame: sinks may still hold the last one

    # fp16 short of 35 dB against fp32: the same frame graph, computing in fp32
    monkeypatch.setattr(ort, "InferenceSession", PretendCuda)
    monkeypatch.setattr(backends, "_psnr_against_cpu", lambda backend, path: 30.0)
    choice = open_backend(styles[0].model, ("cuda",))
    assert choice.backend.precision == "fp32" and choice.backend.takes_frames and "fp16 gave 30.0 dB" in choice.reason

    # no onnx to rewrite graphs with: the file as it is, frames converted on the host
    def no_onnx(path, fp16=True):
        raise StylecastError("frames in the GPU graph need onnx: pip install 'stylecast[gpu]'")

    monkeypatch.setattr("stylecast.realtime.runtimes.gpu_model.gpu_frame_model", no_onnx)
    choice = open_backend(styles[0].model, ("cuda",))
    assert choice.backend.precision == "fp32" and not choice.backend.takes_frames and "need onnx" in choice.reason
    monkeypatch.setattr(ort, "InferenceSession", real_session)
    assert np.abs(Stylizer(choice.backend)(photo).astype(int) - reference).max() <= 1
