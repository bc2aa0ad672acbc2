"""Consecutive real video frames with their optical flow, for the temporal loss of video styles.

Huang et al. 2017 and Ruder et al. 2016 train a network to be steady on real motion: the stylized
current frame should equal the stylized previous frame warped by the flow between the originals,
wherever that flow is trustworthy. Flow is slow to compute, so `stylecast data video-pairs` does it
once; training then reads the saved pairs.
"""
from __future__ import annotations

import random
from importlib import util
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import Dataset

from stylecast.atomic import atomic_path
from stylecast.errors import StylecastError
from stylecast.realtime.temporal.flow import FlowEstimator, consistent_mask
from stylecast.sizing import fit_image
from stylecast.realtime.media.outputs import writable_folders
from stylecast.train.data import to_tensor

MIN_TRUSTED = 0.5  # pairs whose flow is trusted on less than this share are cuts or chaos: skipped


@dataclass(frozen=True)
class PairsReport:
    pairs: int
    skipped: int  # scene cuts and frames too different to trust the flow


def frame_pairs(frames: Iterable[np.ndarray], shortest: int) -> Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(previous RGB, current RGB, backward flow, trusted mask) for each consecutive pair.

    The backward flow maps each current pixel to where it was in the previous frame, so the
    previous output warped by it lands on the current frame's grid."""
    flow = FlowEstimator()
    prev = prev_small = None
    for bgr in frames:
        cur = fit_image(bgr, shortest=shortest)
        small = flow.shrink(cur)
        if prev is not None and prev.shape == cur.shape:
            back, fwd = flow.both_ways(small, prev_small, (cur.shape[1], cur.shape[0]))
            mask = consistent_mask(back, fwd)
            yield cv2.cvtColor(prev, cv2.COLOR_BGR2RGB), cv2.cvtColor(cur, cv2.COLOR_BGR2RGB), back, mask
        prev, prev_small = cur, small


def _decode(video: Path) -> Iterable[np.ndarray]:
    """BGR frames: PyAV where installed (it reads more files), else OpenCV (a bare training machine)."""
    if not video.is_file():
        raise StylecastError(f"video not found: {video}")
    if util.find_spec("av") is None:
        capture = cv2.VideoCapture(str(video))
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            yield frame
        capture.release()
        return
    from stylecast.realtime.media.sources import VideoFileSource

    with VideoFileSource(video) as source:
        for frame in source:
            yield frame.image


def extract_pairs(video: Path, out_dir: Path, shortest: int = 288, every: int = 1) -> PairsReport:
    """Decode ``video``, keep every ``every``-th pair, and save each as ``NAME_NNNNN.npz`` in ``out_dir``."""
    out_dir = Path(out_dir)
    kept = skipped = 0
    with writable_folders([out_dir]):  # refused or stopped before a pair was kept: no empty folder left behind
        for i, (prev, cur, back, mask) in enumerate(frame_pairs(_decode(Path(video)), shortest)):
            if i % every:
                continue
            if mask.mean() < MIN_TRUSTED:
                skipped += 1
                continue
            with atomic_path(out_dir / f"{Path(video).stem}_{i:05d}.npz") as tmp:
                with open(tmp, "wb") as f:
                    np.savez_compressed(f, prev=prev, cur=cur, flow=back.astype(np.float16), mask=mask.astype(np.uint8))
            kept += 1
        if kept == 0:
            raise StylecastError(f"no usable frame pairs in {video} (too short, or every pair is a cut)")
    return PairsReport(kept, skipped)


class VideoPairs(Dataset):
    """Random square crops of saved pairs; the same crop and mirror apply to frames, flow and mask."""

    def __init__(self, root: Path, size: int, seed: int = 0) -> None:
        self.files = sorted(Path(root).glob("*.npz"))
        if not self.files:
            raise StylecastError(f"no frame pairs (*.npz) under {root}: make them with 'stylecast data video-pairs VIDEO {root}'")
        self.size = size
        self.seed = seed
        self._cache: dict[int, dict[str, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, index: int) -> dict[str, np.ndarray]:
        if index not in self._cache:
            with np.load(self.files[index]) as z:
                self._cache[index] = {k: z[k] for k in ("prev", "cur", "flow", "mask")}
        return self._cache[index]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = random.Random(hash((self.seed, index, random.random())))
        pair = self._load(index)
        h, w = pair["cur"].shape[:2]
        if min(h, w) < self.size:
            raise StylecastError(f"{self.files[index]} is {w}x{h}, smaller than the {self.size}-px crops: extract with a larger --shortest")
        y, x = rng.randint(0, h - self.size), rng.randint(0, w - self.size)
        crop = {k: v[y : y + self.size, x : x + self.size] for k, v in pair.items()}
        if rng.random() < 0.5:  # mirror: the flow's horizontal component changes sign
            crop = {k: v[:, ::-1] for k, v in crop.items()}
            crop["flow"] = crop["flow"] * np.array([-1, 1], np.float16)
        return {"prev": to_tensor(crop["prev"]), "cur": to_tensor(crop["cur"]), "flow": to_tensor(crop["flow"]),
                "mask": torch.from_numpy(np.ascontiguousarray(crop["mask"])).float()[None]}


def warp_by_flow(images: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``images`` (N,C,H,W) at x + flow(x), flow (N,2,H,W) in pixels: torch's ``flow.warp``."""
    n, _, h, w = images.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=images.device), torch.arange(w, device=images.device), indexing="ij")
    x = (xs[None] + flow[:, 0]) * (2 / max(w - 1, 1)) - 1
    y = (ys[None] + flow[:, 1]) * (2 / max(h - 1, 1)) - 1
    grid = torch.stack([x, y], -1).to(images.dtype)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=True)


# Rec. 601 luma of RGB, as the 4:2:0 video a stylized clip is encoded to keeps it
LUMA = (0.299, 0.587, 0.114)


def temporal_loss(net: torch.nn.Module, pairs: dict[str, torch.Tensor], luma: float = 0.0,
                  cur_stylized: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared difference between the stylized current frame and the warped stylized previous
    one, over trusted pixels, in 0-255 units: the warping error that `eval-temporal` reports.

    ``luma`` adds that much weight on the luminance part of the difference. Video players keep
    luminance at full resolution but halve chroma, so colour flicker fades in the encoded clip and
    brightness flicker is what viewers see; an RGB loss alone lets a net steady its colours first.

    ``cur_stylized`` holds the first current frames already stylized (the trainer's perceptual
    batch includes them); only the rest are run through ``net`` again."""
    out_prev = net(pairs["prev"]).float()
    parts = [] if cur_stylized is None else [cur_stylized]
    done = sum(len(p) for p in parts)
    if done < len(pairs["cur"]):
        parts.append(net(pairs["cur"][done:]))
    out_cur = torch.cat(parts).float()
    diff = out_cur - warp_by_flow(out_prev, pairs["flow"].float())
    mask = pairs["mask"].float()
    pixels = mask.sum().clamp(min=1)
    loss = (mask * diff ** 2).sum() / (pixels * out_cur.shape[1])
    if luma > 0:
        weights = diff.new_tensor(LUMA).view(1, 3, 1, 1)
        loss = loss + luma * (mask * (diff * weights).sum(1, keepdim=True) ** 2).sum() / pixels
    return loss
