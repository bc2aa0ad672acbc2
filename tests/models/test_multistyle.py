"""The conditional-instance-norm network: one-hot is a single painting, mixes blend continuously,
and the exported graph paints the same mixes in every runtime."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def two_paintings():
    """A two-painting net on a real trained network: row "a" is cafe_terrace_rt's own norms, row "b" a
    different affine on the same convolutions (so the two paint differently)."""
    from stylecast.export.onnx import load_onnx_net
    from stylecast.models.multistyle import MultiStyleNet
    from stylecast.styles import resolve_style

    single, _ = load_onnx_net(resolve_style("cafe_terrace_rt"))
    net = MultiStyleNet(["a", "b"], width=single.width, design=single.design)
    net.adopt(single)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for norm in net.norms:
            norm.scale[1].mul_(1 + 0.4 * torch.randn(norm.scale.shape[1], generator=generator))
            norm.shift[1].add_(0.4 * torch.randn(norm.shift.shape[1], generator=generator))
    return net.eval(), single.eval()


@pytest.fixture(scope="module")
def photo(photo_bgr):
    from stylecast.sizing import cover_crop

    rgb = cover_crop(photo_bgr, (160, 120))[:, :, ::-1]
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None].float()


def test_one_hot_weights_paint_exactly_the_single_network(two_paintings, photo):
    net, single = two_paintings
    with torch.no_grad():
        assert (net(photo, net.one_hot("a")) - single(photo)).abs().max() < 1e-2
        assert (net(photo, net.one_hot("b")) - net.single("b")(photo)).abs().max() < 1e-2
        # and the two rows really are different paintings
        assert (net(photo, net.one_hot("a")) - net(photo, net.one_hot("b"))).abs().mean() > 5


def test_weights_are_normalised_so_only_their_ratio_counts(two_paintings, photo):
    net, _ = two_paintings
    with torch.no_grad():
        assert (net(photo, torch.tensor([3.0, 1.0])) - net(photo, torch.tensor([0.75, 0.25]))).abs().max() < 1e-3


def test_blending_is_continuous(two_paintings, photo):
    """Small steps in weight give small steps in the painting, all the way from a to b."""
    net, _ = two_paintings
    with torch.no_grad():
        outputs = [net(photo, torch.tensor([1 - t, t])) for t in np.linspace(0, 1, 21)]
    whole = (outputs[0] - outputs[-1]).abs().mean()
    steps = [(p - q).abs().mean() / whole for p, q in zip(outputs, outputs[1:])]
    assert max(steps) < 0.15  # no jump: each 5% of weight moves the painting a small part of the way
    assert sum(steps) > 0.9  # and the steps add up to the whole change (nothing happens at one point only)


def test_a_batch_may_paint_each_picture_with_its_own_mix(two_paintings, photo):
    net, _ = two_paintings
    with torch.no_grad():
        both = net(photo.repeat(2, 1, 1, 1), torch.stack([net.one_hot("a"), net.one_hot("b")]))
        assert (both[1:] - net(photo, net.one_hot("b"))).abs().max() < 1e-2


def test_export_takes_the_weights_as_an_input_and_every_runtime_mixes(two_paintings, photo_bgr, tmp_path):
    from stylecast.contract import StyleCard
    from stylecast.export.onnx import export_multistyle_onnx
    from stylecast.realtime.runtimes.onnxruntime_backend import OnnxRuntimeBackend
    from stylecast.realtime.runtimes.openvino_backend import OpenVinoBackend
    from stylecast.realtime.runtimes.precision import psnr
    from stylecast.realtime.runtimes.preprocess import margin_for, pad_frame
    from stylecast.realtime.runtimes.stylizer import Stylizer
    from stylecast.sizing import cover_crop

    net, _ = two_paintings
    image = cover_crop(photo_bgr, (128, 96))[:, :, ::-1].copy()
    path = tmp_path / "two.onnx"
    report = export_multistyle_onnx(net, path, StyleCard(name="two", width=8, design="shuffle", styles=("a", "b")), image)
    assert report.max_abs_error < 0.5
    frame = cover_crop(photo_bgr, (160, 120))
    m = margin_for(120, 160)  # the Stylizer paints from a reflected margin: the reference does too
    padded = pad_frame(frame, 4, m)
    x = torch.from_numpy(np.ascontiguousarray(padded[:, :, ::-1].transpose(2, 0, 1)))[None].float()
    backends = [OnnxRuntimeBackend(path)]
    try:
        backends.append(OpenVinoBackend(path, precision="f32"))
    except Exception:  # OpenVINO is optional
        pass
    for backend in backends:
        assert backend.contract.styles == ("a", "b")
        for mix in ({"a": 1.0}, {"b": 1.0}, {"a": 0.3, "b": 0.7}):
            w = torch.tensor([mix.get("a", 0.0), mix.get("b", 0.0)])
            with torch.no_grad():
                want = net(x, w).clamp(0, 255)[0].numpy().transpose(1, 2, 0)[m:m + 120, m:m + 160, ::-1]
                want = want.round().astype(np.uint8)
            assert psnr(Stylizer(backend, mix)(frame), want) > 40, (backend.name, mix)


def test_a_multi_style_file_is_not_mistaken_for_a_single_trainable_style(two_paintings, photo_bgr, tmp_path):
    from stylecast.contract import StyleCard
    from stylecast.errors import StylecastError
    from stylecast.export.onnx import export_multistyle_onnx, load_onnx_net

    net, _ = two_paintings
    path = tmp_path / "two.onnx"
    export_multistyle_onnx(net, path, StyleCard(name="two", width=8, design="shuffle", styles=("a", "b")),
                           np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(StylecastError, match="multi-style"):
        load_onnx_net(path)
