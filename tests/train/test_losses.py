import pytest

torch = pytest.importorskip("torch")

from stylecast.train.losses import LossWeights, PerceptualLoss, content_loss, gram_matrix, style_loss, total_variation  # noqa: E402


def test_gram_on_known_features():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)  # C=2, H=1, W=2
    g = gram_matrix(f)
    # channel rows (1,2) and (3,4): dot products 5, 11, 25, divided by C*H*W = 4
    torch.testing.assert_close(g, torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4)


def test_style_loss_is_sum_of_squared_gram_differences():
    a = {"x": torch.ones(2, 1, 2, 2)}
    target = {"x": torch.zeros(1, 1, 1)}
    # Gram of ones is 4/4 = 1 for each sample; squared difference 1; batch mean 1
    assert style_loss(a, target).item() == pytest.approx(1.0)
    b = {"x": torch.ones(1, 1, 2, 2), "y": 2 * torch.ones(1, 1, 2, 2)}
    assert style_loss(b, {"x": torch.zeros(1, 1, 1), "y": torch.ones(1, 1, 1)}).item() == pytest.approx(1.0 + 9.0)


def test_content_and_tv_on_known_inputs():
    assert content_loss(torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 3.0)).item() == pytest.approx(9.0)
    ramp = torch.arange(5.0).repeat(1, 1, 4, 1)  # each row 0..4: horizontal step 1, vertical 0
    assert total_variation(ramp).item() == pytest.approx(1.0)
    assert total_variation(torch.full((1, 3, 8, 8), 7.0)).item() == 0.0


def test_perceptual_loss_terms_and_inputs_untouched(vgg):
    torch.manual_seed(0)
    style = torch.rand(1, 3, 64, 64) * 255
    loss = PerceptualLoss(vgg, [style], LossWeights(content=1.0, style=5e-5, tv=1.0))
    content = torch.rand(2, 3, 64, 64) * 255
    output = content.clone()
    saved = (content.clone(), output.clone(), style.clone())
    terms = loss(output, content)
    assert set(terms) == {"content", "style", "tv", "total"}
    assert terms["content"].item() == pytest.approx(0.0, abs=1e-6)  # identical images
    assert terms["style"].item() > 0
    torch.testing.assert_close(terms["total"], terms["content"] + terms["style"] + terms["tv"])
    for before, after in zip(saved, (content, output, style)):
        torch.testing.assert_close(before, after)
    # the style image scores (almost) zero style loss against itself
    assert loss(style, style)["style"].item() < 1e-3 * terms["style"].item()


def test_two_style_images_mix_their_grams(vgg):
    a, b = torch.zeros(1, 3, 32, 32), torch.full((1, 3, 32, 32), 255.0)
    mixed = PerceptualLoss(vgg, [a, b], style_mix=[1, 3])
    only_a, only_b = PerceptualLoss(vgg, [a]), PerceptualLoss(vgg, [b])
    for name in mixed.style_layers:
        want = 0.25 * only_a.target_grams[name] + 0.75 * only_b.target_grams[name]
        torch.testing.assert_close(mixed.target_grams[name], want)


def test_stability_loss_is_zero_for_an_equivariant_net_and_positive_otherwise():
    from stylecast.train.losses import apply_warp, random_small_warp, stability_loss

    torch.manual_seed(0)
    content = torch.rand(2, 3, 32, 32) * 255
    identity = torch.nn.Identity()
    # only the added noise (std 4) separates the two sides for a net that commutes with warps
    assert stability_loss(identity, content, content, noise=0.0).item() < 1e-6
    assert stability_loss(identity, content, content, noise=4.0).item() == pytest.approx(16, rel=0.2)
    flicker = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3, padding=1))
    assert stability_loss(flicker, content, torch.zeros_like(content), noise=0.0).item() > 1.0
    theta = random_small_warp(2)
    assert theta.shape == (2, 2, 3) and theta[:, :, 2].abs().max() <= 0.02
    assert apply_warp(content, theta).shape == content.shape


def test_shift_stability_target_is_exact_for_a_shift_equivariant_net():
    from stylecast.train.losses import shift_image, stability_loss

    torch.manual_seed(0)
    content = torch.rand(2, 3, 40, 40) * 255
    moved = shift_image(content, 2, -3)
    torch.testing.assert_close(moved[..., 5:-5, 5:-5], content[..., 3:-7, 8:-2])  # a pure move inside
    # pointwise and nonlinear: commutes with whole-pixel moves, not with sub-pixel interpolation
    pointwise = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1), torch.nn.ReLU())
    with torch.no_grad():
        out = pointwise(content)
        assert stability_loss(pointwise, content, out, noise=0.0, mode="shift").item() < 1e-6
        assert stability_loss(pointwise, content, out, noise=0.0, mode="affine").item() > 0.1
    with pytest.raises(ValueError, match="unknown stability mode"):
        stability_loss(pointwise, content, out, mode="spin")
