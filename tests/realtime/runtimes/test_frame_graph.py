import numpy as np
import pytest

from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
from stylecast.realtime.runtimes.stylizer import Stylizer

onnx = pytest.importorskip("onnx")


def _frame_backend(path) -> OnnxRuntimeBackend:
    from stylecast.realtime.runtimes.frame_graph import with_frame_io

    return OnnxRuntimeBackend(path, model=with_frame_io(onnx.load(str(path))).SerializeToString(), takes_frames=True)


def test_the_frame_graph_paints_what_host_conversions_paint(tiny_model, photo_bgr):
    """Same network, same runtime: moving the casts, channel swap and layout into the graph changes
    no pixel, also at a size the Stylizer has to pad and crop back."""
    frames = _frame_backend(tiny_model)
    inputs, outputs = frames.session.get_inputs(), frames.session.get_outputs()
    assert [(i.name, i.type) for i in inputs] == [("frame", "tensor(uint8)")]
    assert [(o.name, o.type) for o in outputs] == [("painted", "tensor(uint8)")]
    assert inputs[0].shape[3] == 3 and outputs[0].shape[3] == 3  # NHWC, as OpenCV holds frames
    host = Stylizer(OnnxRuntimeBackend(tiny_model))
    for frame in (photo_bgr[:96, :128], photo_bgr[:61, :83]):
        want, got = host(frame), Stylizer(frames)(frame)
        assert got.shape == frame.shape and got.dtype == np.uint8 and got.flags.c_contiguous
        assert np.abs(got.astype(int) - want).max() <= 1
        assert np.mean(got != want) < 0.001


def test_the_frame_graph_follows_the_contract(tmp_path, photo_bgr):
    """A model whose contract says BGR channels and a -1..1 output gets those conversions, not RGB/0-255's."""
    torch = pytest.importorskip("torch")
    import cv2

    from stylecast.contract import ModelContract, StyleCard
    from stylecast.export.onnx import export_onnx
    from stylecast.models.transformer import TransformerNet

    torch.manual_seed(1)
    path = tmp_path / "bgr.onnx"
    net = TransformerNet(width=8).eval()
    contract = ModelContract(channels="BGR", value_range=(-1.0, 1.0))
    export_onnx(net, path, StyleCard(name="bgr", width=8), cv2.resize(photo_bgr, (64, 64))[:, :, ::-1].copy(), contract=contract)
    frames = _frame_backend(path)
    host = OnnxRuntimeBackend(path)
    assert frames.contract == host.contract == contract
    frame = photo_bgr[:64, :96]
    want, got = Stylizer(host)(frame), Stylizer(frames)(frame)
    assert np.mean((want > 0) & (want < 255)) > 0.5  # mostly not clipped: the scaling itself is compared
    assert np.abs(got.astype(int) - want).max() <= 1


def test_the_frame_graph_of_a_multi_style_network_takes_its_mix(tmp_path, photo_bgr):
    """The GPU path's uint8 frame graph keeps the weights input, so a mix reaches the network there too."""
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.gpu_model import gpu_frame_model
    from stylecast.realtime.runtimes.stylizer import Stylizer
    from stylecast.sizing import cover_crop
    from stylecast.styles.mixes import multistyle_networks

    networks = multistyle_networks()
    if not networks:
        pytest.skip("no bundled multi-style network")
    model = networks[0].model
    frames = OnnxRuntimeBackend(model, model=gpu_frame_model(model, fp16=False), takes_frames=True)
    plain = OnnxRuntimeBackend(model)
    frame = cover_crop(photo_bgr, (160, 120))
    a, b = networks[0].card.styles[:2]
    for mix in ({a: 1.0}, {b: 1.0}, {a: 0.5, b: 0.5}):
        got, want = Stylizer(frames, mix)(frame), Stylizer(plain, mix)(frame)
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1, mix
    assert not np.array_equal(Stylizer(frames, {a: 1.0})(frame), Stylizer(frames, {b: 1.0})(frame))
