"""Training settings: one frozen dataclass, built by the CLI, stored in every checkpoint."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    style: Path
    data: Path
    out: Path
    width: int = 32
    residual_blocks: int = 5
    input_blur: float = 0.0  # Gaussian sigma (px) applied to each frame inside the net: less flicker from noise
    design: str = "johnson"  # johnson | shuffle (no full-resolution convolutions: CPU real time)
    bottleneck: int = 0  # > 0: residual blocks squeeze to this many channels (cheaper full-width nets)
    distill_from: Path | None = None  # a trained style's .onnx: learn to match its output instead of VGG losses
    texture_weight: float = 0.0  # distillation only: > 0 also matches the VGG Grams of the teacher's painting
    steps: int = 4000
    batch: int = 4
    size: int = 256
    style_size: int = 512
    content_weight: float = 1.0
    style_weight: float = 5e-5
    tv_weight: float = 1.0
    stability_weight: float = 0.0  # > 0 adds the temporal stability loss (for video styles)
    temporal_weight: float = 0.0  # > 0 adds the temporal loss on real consecutive frames (needs video_pairs)
    temporal_luma: float = 0.0  # extra weight on the brightness part of the temporal loss (what 4:2:0 video keeps)
    video_pairs: Path | None = None  # folder made by `stylecast data video-pairs`
    stability_mode: str = "shift"  # shift: whole-pixel moves | affine: sub-pixel warps (blurrier target)
    content_layer: str = "relu2_2"
    lr: float = 1e-3
    seed: int = 0
    checkpoint_every: int = 200
    sample_every: int = 200
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "auto"  # auto | bf16 | fp16 | fp32
    init_from: Path | None = None  # start from another run's weights (fine-tuning, e.g. adding stability)
    vgg_weights: Path | None = None
    cache_dir: Path | None = None
    style_source: str = ""
    style_license: str = ""

    @property
    def name(self) -> str:
        return Path(self.out).name

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        paths = {"style", "data", "out", "vgg_weights", "cache_dir", "init_from", "video_pairs", "distill_from"}
        known = {f.name for f in fields(cls)}
        return cls(**{k: (Path(v) if k in paths and v is not None else v) for k, v in data.items() if k in known})
