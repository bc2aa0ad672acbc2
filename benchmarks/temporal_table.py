"""Flicker table for #6: warping error of real clips stylized with each model and --smooth mode.

    python benchmarks/temporal_table.py /usr/share/doc/opencv-doc/examples/data/vtest.avi \\
        /usr/share/doc/opencv-doc/examples/data/tree.avi \\
        --runs cafe_terrace_fast:off cafe_terrace_fast:flow cafe_terrace_fast:ema cafe_terrace_stable:off

Each clip is stylized with `stylecast video` settings, then scored like `stylecast eval-temporal`.
The first run per clip is the baseline the reductions are measured against.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.config import RunConfig
from stylecast.realtime.hd.painter import WorkingSizePainter
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.realtime.temporal.evaluate import evaluate_videos
from stylecast.realtime.video import VideoConfig, stylize_video
from stylecast.styles import resolve_style


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clips", nargs="+", type=Path)
    ap.add_argument("--runs", nargs="+", required=True, metavar="STYLE:SMOOTH")
    ap.add_argument("--max-side", type=int, default=640)
    ap.add_argument("--limit", type=int, default=300, help="frames scored per clip")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--flow-scale", type=float, default=1.0, help="resolution of the metric's flow (1 = full)")
    ap.add_argument("--crf", type=int, help="h264 quality of the stylized clips (default: stylecast video's 18; "
                                            "0 is lossless and scores the network alone, not the encoder)")
    args = ap.parse_args()
    print("| clip | style | smooth | warping error | vs first row | stability | infer ms/frame |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for clip in args.clips:
            base = None
            for spec in args.runs:
                style, smooth = spec.split(":")
                run = RunConfig(style=style, backend=args.backend, max_side=args.max_side)
                choice = open_backend(resolve_style(style), run.prefer)
                out = Path(tmp) / f"{clip.stem}-{style}-{smooth}.mkv"
                result = stylize_video(clip, out, WorkingSizePainter(Stylizer(choice.backend), 640), choice.network_width, VideoConfig(run=run, smooth=smooth, crf=args.crf))
                scores = evaluate_videos(out, clip, limit=args.limit, flow_scale=args.flow_scale)
                base = base or scores.warping_error
                change = f"{100 * (scores.warping_error / base - 1):+.0f}%"
                ms = 1000 * result.times.infer / max(1, result.times.frames)
                print(f"| {clip.name} | {Path(style).stem.removesuffix('.fp16')} | {smooth} | {scores.warping_error:.5f} | {change} | "
                      f"{scores.stability:.3f} | {ms:.0f} |", flush=True)


if __name__ == "__main__":
    main()
