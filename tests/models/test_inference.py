import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecast.models.inference import BlockOutputConv, UpsampleConvTransposed, inference_form  # noqa: E402
from stylecast.models.transformer import ConvLayer, TransformerNet  # noqa: E402


def _trained_like(design: str) -> TransformerNet:
    """Random weights give near-constant images; scale the output layer so pixels use the range."""
    torch.manual_seed(3)
    net = TransformerNet(width=8, design=design)
    last = [m for m in net.decoder.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        last.weight.mul_(40)
        last.bias.fill_(128)
    return net.eval()


def _photo(photo_bgr: np.ndarray, w: int, h: int) -> torch.Tensor:
    rgb = cv2.cvtColor(cv2.resize(photo_bgr, (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float()


@pytest.mark.parametrize("design", ["johnson", "shuffle"])
@pytest.mark.parametrize("w,h", [(96, 64), (52, 36), (20, 12)])
def test_inference_form_computes_the_same_image(photo_bgr, design, w, h):
    net = _trained_like(design)
    x = _photo(photo_bgr, w, h)
    with torch.no_grad():
        want, got = net(x), inference_form(net)(x)
    assert want.std() > 10, "the test net makes a real image"
    assert (got - want).abs().max().item() < 1e-3
    assert net.decoder[0][0].__class__.__name__ == "Upsample", "the trained net itself is left as it was"


def test_inference_form_replaces_the_upsampling_and_the_three_channel_output():
    fast = inference_form(_trained_like("johnson"))
    kinds = [type(m) for m in fast.modules()]
    assert torch.nn.Upsample not in kinds
    assert kinds.count(UpsampleConvTransposed) == 2
    assert kinds.count(BlockOutputConv) == 1
    shuffle = [type(m) for m in inference_form(_trained_like("shuffle")).modules()]
    assert shuffle.count(UpsampleConvTransposed) == 1
    assert BlockOutputConv not in shuffle, "the shuffle design already outputs 12 channels"


def test_each_rewrite_matches_its_layer_at_the_borders(photo_bgr):
    torch.manual_seed(0)
    x = _photo(photo_bgr, 24, 16)
    up = ConvLayer(3, 5, 3)
    out = ConvLayer(3, 3, 9)
    with torch.no_grad():
        plain_up = up(torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest"))
        assert torch.allclose(UpsampleConvTransposed(up)(x), plain_up, atol=1e-3)
        assert torch.allclose(BlockOutputConv(out)(x), out(x), atol=1e-3)


def test_rewrites_refuse_layers_they_do_not_fit():
    with pytest.raises(ValueError):
        UpsampleConvTransposed(ConvLayer(4, 4, 5))
    with pytest.raises(ValueError):
        BlockOutputConv(ConvLayer(4, 3, 3, stride=2))


@pytest.mark.parametrize("design,bottleneck", [("johnson", 0), ("shuffle", 0), ("johnson", 8)])
def test_training_form_recovers_the_trained_weights_exactly(design, bottleneck):
    from stylecast.models.inference import training_form

    torch.manual_seed(5)
    net = TransformerNet(width=8, design=design, bottleneck=bottleneck).eval()
    template = TransformerNet(width=8, design=design, bottleneck=bottleneck)
    back = training_form(inference_form(net), template)
    for name, value in net.state_dict().items():
        assert torch.allclose(back.state_dict()[name], value, atol=1e-5), name
    assert isinstance(back.decoder[0][0], torch.nn.Upsample), "a plain, trainable TransformerNet again"
