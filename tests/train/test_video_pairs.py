"""Frame pairs with flow for the temporal loss: extraction on made clips, the warp, the loss, training."""
from dataclasses import replace

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stylecast.errors import StylecastError  # noqa: E402
from stylecast.realtime.temporal.flow import warp  # noqa: E402
from stylecast.models.transformer import TransformerNet  # noqa: E402
from stylecast.train.video_pairs import VideoPairs, extract_pairs, frame_pairs, temporal_loss, warp_by_flow  # noqa: E402


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Blurred noise: texture that optical flow can lock on to."""
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), (0, 0), 2)


def _pan(frames: int, dx: int, size: tuple[int, int] = (160, 120)) -> list[np.ndarray]:
    w, h = size
    big = _texture(h, w + dx * frames)
    return [big[:, i * dx : i * dx + w].copy() for i in range(frames)]


def test_frame_pairs_recover_a_known_pan():
    pairs = list(frame_pairs(_pan(4, 3), shortest=120))
    assert len(pairs) == 3
    prev, cur, back, mask = pairs[0]
    assert prev.shape == cur.shape == (120, 160, 3) and back.shape == (120, 160, 2)
    # the view moves right by 3 px, so each current pixel was 3 px further right before
    inner = (slice(16, -16), slice(16, -16))
    assert np.median(back[inner][..., 0]) == pytest.approx(3, abs=0.3)
    assert np.median(back[inner][..., 1]) == pytest.approx(0, abs=0.3)
    assert mask[inner].mean() > 0.9


def test_warp_by_flow_matches_the_opencv_warp():
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 255, (40, 56, 3)).astype(np.float32)
    flow = rng.uniform(-3, 3, (40, 56, 2)).astype(np.float32)
    want = warp(image, flow)
    got = warp_by_flow(torch.from_numpy(image).permute(2, 0, 1)[None], torch.from_numpy(flow).permute(2, 0, 1)[None])
    np.testing.assert_allclose(got[0].permute(1, 2, 0).numpy(), want, atol=0.05)


def _pairs_batch(frames: list[np.ndarray]) -> dict:
    prev, cur, back, mask = next(iter(frame_pairs(frames, shortest=frames[0].shape[0])))
    from stylecast.train.data import to_tensor

    return {"prev": to_tensor(prev)[None], "cur": to_tensor(cur)[None], "flow": to_tensor(back)[None],
            "mask": torch.from_numpy(mask).float()[None, None]}


def test_temporal_loss_is_small_for_a_steady_net_and_large_for_a_flickering_one():
    pairs = _pairs_batch(_pan(2, 2))
    steady = torch.nn.Identity()
    torch.manual_seed(0)
    flicker = lambda x: x + 20 * torch.randn_like(x)  # a new pattern every frame, like unstable strokes
    assert temporal_loss(steady, pairs).item() < 10
    assert temporal_loss(flicker, pairs).item() > 500


def test_luma_weight_counts_brightness_flicker_and_leaves_colour_flicker_alone():
    pairs = _pairs_batch(_pan(2, 2))
    torch.manual_seed(0)
    noise = 20 * torch.randn_like(pairs["cur"][:, :1])
    # the same flicker amplitude, once as grey (brightness) and once with zero luma (colour only)
    grey = lambda x: x + noise * torch.ones(1, 3, 1, 1)
    chroma = torch.tensor([0.587, -0.299, 0.0]).view(1, 3, 1, 1)
    chroma = chroma / chroma.norm() * 3 ** 0.5
    colour = lambda x: x + noise * chroma
    assert temporal_loss(grey, pairs).item() == pytest.approx(temporal_loss(colour, pairs).item(), rel=0.1)
    assert temporal_loss(colour, pairs, luma=4).item() == pytest.approx(temporal_loss(colour, pairs).item(), rel=0.02)
    assert temporal_loss(grey, pairs, luma=4).item() > 4 * temporal_loss(grey, pairs).item()


def test_frames_stylized_already_are_not_stylized_again():
    a, b = _pairs_batch(_pan(2, 2)), _pairs_batch(_pan(2, 3))
    pairs = {k: torch.cat([a[k], b[k]]) for k in a}
    torch.manual_seed(0)
    net = TransformerNet(width=8).eval()
    seen = []
    counting = lambda x: seen.append(x.shape[0]) or net(x)
    with torch.no_grad():
        want = temporal_loss(counting, pairs).item()
        assert sum(seen) == 4
        seen.clear()
        got = temporal_loss(counting, pairs, cur_stylized=net(pairs["cur"][:1])).item()
    assert sum(seen) == 3, "prev twice, and only the second current frame"
    assert got == pytest.approx(want, rel=1e-4)


def test_extract_pairs_saves_cropable_pairs_and_skips_cuts(tmp_path):
    from tests.realtime.clips import make_clip

    pytest.importorskip("av")
    clip = make_clip(tmp_path / "pan.mp4", frames=8, size=(128, 96), audio=None)
    report = extract_pairs(clip, tmp_path / "pairs", shortest=96)
    assert report.pairs + report.skipped == 7 and report.pairs >= 5
    data = VideoPairs(tmp_path / "pairs", size=64)
    item = data[0]
    assert item["prev"].shape == item["cur"].shape == (3, 64, 64)
    assert item["flow"].shape == (2, 64, 64) and item["mask"].shape == (1, 64, 64)
    with pytest.raises(StylecastError, match="smaller than"):
        VideoPairs(tmp_path / "pairs", size=128)[0]
    with pytest.raises(StylecastError, match="no frame pairs"):
        VideoPairs(tmp_path / "empty", size=64)


def test_a_video_without_pairs_is_refused_and_leaves_no_empty_folder(tmp_path):
    from tests.realtime.clips import make_clip

    pytest.importorskip("av")
    one = make_clip(tmp_path / "one.mp4", frames=1, size=(128, 96), audio=None)
    with pytest.raises(StylecastError, match="no usable frame pairs"):
        extract_pairs(one, tmp_path / "pairs", shortest=96)
    assert not (tmp_path / "pairs").exists()
    (tmp_path / "kept").mkdir()  # a folder the user made stays
    with pytest.raises(StylecastError, match="no usable frame pairs"):
        extract_pairs(one, tmp_path / "kept", shortest=96)
    assert (tmp_path / "kept").is_dir()


def test_mirrored_crops_flip_the_flow(tmp_path, monkeypatch):
    frames = _pan(2, 3, size=(96, 64))
    prev, cur, back, mask = next(iter(frame_pairs(frames, shortest=64)))
    (tmp_path / "p").mkdir()
    np.savez_compressed(tmp_path / "p" / "a.npz", prev=prev, cur=cur, flow=back.astype(np.float16), mask=mask.astype(np.uint8))
    data = VideoPairs(tmp_path / "p", size=64)
    signs = set()
    for _ in range(20):
        signs.add(int(np.sign(np.median(data[0]["flow"][0].numpy()))))
    assert signs == {1, -1}  # a mirrored pan runs the other way


def test_training_with_video_pairs_records_the_temporal_term(tmp_path, vgg_cache):
    from tests.train.test_trainer import _make_images, _make_style
    from stylecast.train.config import TrainConfig
    from stylecast.train.trainer import Trainer

    frames = _pan(5, 2, size=(96, 72))
    pairs_dir = tmp_path / "pairs"
    pairs_dir.mkdir()
    for i, (prev, cur, back, mask) in enumerate(frame_pairs(frames, shortest=72)):
        np.savez_compressed(pairs_dir / f"p{i}.npz", prev=prev, cur=cur, flow=back.astype(np.float16), mask=mask.astype(np.uint8))
    config = TrainConfig(style=_make_style(tmp_path / "style.png"), data=_make_images(tmp_path / "photos"), out=tmp_path / "run",
                         width=8, steps=2, batch=2, size=64, style_size=64, precision="fp32", cache_dir=vgg_cache,
                         temporal_weight=100.0, video_pairs=pairs_dir)
    trainer = Trainer(config)
    trainer.run(progress=False)
    assert trainer.history[-1]["temporal"] > 0
    assert trainer.card().training["weights"]["temporal"] == 100.0
    with pytest.raises(StylecastError, match="needs --video-pairs"):
        Trainer(replace(config, out=tmp_path / "other", video_pairs=None))
