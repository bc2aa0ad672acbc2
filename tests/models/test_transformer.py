import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from stylecast.models.transformer import TransformerNet  # noqa: E402


@pytest.mark.parametrize("h,w", [(64, 64), (68, 100), (32, 124)])
def test_output_has_input_size_for_multiples_of_four(h, w):
    net = TransformerNet(width=8).eval()
    with torch.no_grad():
        y = net(torch.rand(2, 3, h, w) * 255)
    assert y.shape == (2, 3, h, w)


def test_odd_sizes_come_back_rounded_up_so_callers_must_pad():
    # 641x479 is not a multiple of 4: the raw net returns a different size, which is why the
    # runtime pads (tests/realtime/test_preprocess.py checks the padded path keeps the size).
    net = TransformerNet(width=8).eval()
    with torch.no_grad():
        y = net(torch.rand(1, 3, 479, 641) * 255)
    assert y.shape[2:] != (479, 641)


def test_architecture_is_johnson_without_transposed_convs():
    net = TransformerNet(width=32, residual_blocks=5)
    modules = list(net.modules())
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in modules)
    assert sum(isinstance(m, nn.Upsample) for m in modules) == 2
    assert all(m.affine for m in modules if isinstance(m, nn.InstanceNorm2d))
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in modules) == sum(isinstance(m, nn.Conv2d) for m in modules)
    convs = [m for m in modules if isinstance(m, nn.Conv2d)]
    assert convs[0].kernel_size == (9, 9) and convs[-1].kernel_size == (9, 9)
    assert [c.stride for c in convs[1:3]] == [(2, 2), (2, 2)]
    assert len(net.residuals) == 5


def test_width_scales_channels():
    params = {w: sum(p.numel() for p in TransformerNet(width=w).parameters()) for w in (8, 16, 32)}
    assert params[8] < params[16] < params[32]
    assert TransformerNet(width=16).encoder[0][0].conv.out_channels == 16


def test_shuffle_design_has_no_full_resolution_convolution():
    net = TransformerNet(width=8, design="shuffle").eval()
    x = torch.rand(1, 3, 32, 48) * 255
    sizes = []
    hooks = [m.register_forward_hook(lambda m, i, o: sizes.append(o.shape[-2:]))
             for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        assert net(x).shape == x.shape
    for h in hooks:
        h.remove()
    assert sizes and all(s[0] <= 16 and s[1] <= 24 for s in sizes)
    with pytest.raises(ValueError, match="unknown design"):
        TransformerNet(design="mobile")


def test_input_blur_removes_pixel_noise_before_the_network(photo_bgr):
    import cv2

    from stylecast.models.transformer import InputBlur

    rgb = cv2.cvtColor(cv2.resize(photo_bgr, (96, 64), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float()
    noisy = x + 8 * torch.randn_like(x)
    blur = InputBlur(1.0)
    with torch.no_grad():
        # camera-like noise mostly vanishes, the picture itself hardly changes
        assert (blur(noisy) - blur(x)).std() < 0.35 * (noisy - x).std()
        assert (blur(x) - x).abs().mean() < 0.25 * x.std()
        want = torch.from_numpy(cv2.GaussianBlur(rgb.astype("float32"), (7, 7), 1.0, borderType=cv2.BORDER_REFLECT_101))
        assert (blur(x)[0].permute(1, 2, 0) - want).abs().max() < 0.05


def test_input_blur_keeps_the_state_dict_of_the_plain_net():
    plain, blurred = TransformerNet(width=8), TransformerNet(width=8, input_blur=1.0)
    blurred.load_state_dict(plain.state_dict())  # fine-tuning a plain run with --input-blur starts from its weights
    x = torch.rand(1, 3, 32, 32) * 255
    with torch.no_grad():
        assert not torch.allclose(plain(x), blurred(x))
    with pytest.raises(ValueError):
        TransformerNet(width=8, input_blur=-1)


def test_bottleneck_blocks_cost_a_fraction_of_johnsons_and_keep_the_size():
    from stylecast.models.transformer import BottleneckBlock

    plain, squeezed = TransformerNet(width=32), TransformerNet(width=32, bottleneck=64)
    trunk = lambda net: sum(p.numel() for p in net.residuals.parameters())  # noqa: E731
    assert all(isinstance(b, BottleneckBlock) for b in squeezed.residuals) and len(squeezed.residuals) == 5
    assert trunk(squeezed) < trunk(plain) / 5
    assert squeezed.encoder.state_dict().keys() == plain.encoder.state_dict().keys(), "same ends as Johnson's net"
    with torch.no_grad():
        assert TransformerNet(width=8, bottleneck=8).eval()(torch.rand(1, 3, 36, 52) * 255).shape == (1, 3, 36, 52)
    with pytest.raises(ValueError, match="bottleneck"):
        TransformerNet(bottleneck=-1)
