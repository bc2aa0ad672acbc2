"""Score a multi-style run painting by painting against its teachers, and put it into the package.

    python scripts/ship_multistyle.py runs/paintings_rt --eval-data /usr/share/backgrounds/mate/nature [--dry-run]
        [--calibrate data/gcompris/photos]
    python scripts/ship_multistyle.py paintings_rt --eval-data ... --dry-run   (the bundled network, to compare)

Each painting is taken out of the network as a plain net (the same output as its one-hot weights)
and scored as `ship_style.py` scores a distilled style: PSNR against the teacher on held-out photos
at 640x480, and the held-out style ratio of student and teacher against the same painting picture.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from ship_style import install  # scripts/ is on the path when this script runs

from stylecast.contract import StyleCard
from stylecast.export.onnx import export_onnx, load_multistyle
from stylecast.models.multistyle import MultiStyleNet
from stylecast.styles import resolve_style
from stylecast.train.checkpoint import load_checkpoint
from stylecast.train.distill import agreement_db
from stylecast.train.evaluate import evaluate_model

# The painting pictures the bundled styles' cards were scored against on this kind of machine.
PAINTINGS = {
    "cafe_terrace": "data/gcompris/paintings/details-Gogh4.png",
    "great_wave": "data/gcompris/paintings/puzzle-Katsushika_Hokusai_The_Great_Wave_off_Kanagawa.png",
    "kandinsky": "data/gcompris/paintings/puzzle-Wassily_Kandinsky_Composition_VIII.png",
    "langlois_bridge": "data/gcompris/paintings/details-VincentVanGoghBridge.png",
    "night_cafe": "data/gcompris/paintings/details-Van_Gogh_The_Night_Cafe.png",
    "pere_tanguy": "data/gcompris/paintings/details-PortraitOfPereTanguy.png",
    "starry_night": "/usr/share/doc/opencv-doc/examples/data/starry_night.jpg",
    "the_scream": "/usr/share/darknet/data/scream.jpg",
}


def network(run: Path) -> MultiStyleNet:
    """A run folder's network, or (for a comparison) a multi-style network by name or file, e.g. the
    bundled paintings_rt as stylecast runs it (rebuilt from its int8 copy)."""
    if not (run / "checkpoint.pt").is_file():
        return load_multistyle(resolve_style(str(run)))[0].eval()
    ckpt = load_checkpoint(run / "checkpoint.pt")
    config = ckpt["config"]
    net = MultiStyleNet(config["styles"], config["width"], config["residual_blocks"], config["design"],
                        config.get("bottleneck", 0))
    net.load_state_dict(ckpt["model"])
    return net.eval()


def score(run: Path, eval_data: Path, limit: int) -> dict[str, dict]:
    net = network(run)
    scores = {}
    with tempfile.TemporaryDirectory() as work:
        for name in net.styles:
            single = Path(work) / f"{name}.onnx"
            verify = np.zeros((64, 64, 3), np.uint8)
            export_onnx(net.single(name), single, StyleCard(name=name, width=net.net.width, design=net.net.design), verify)
            teacher = resolve_style(name)
            picture = Path(PAINTINGS[name])
            student_scores = evaluate_model(single, picture, eval_data, limit=limit)
            teacher_scores = evaluate_model(teacher, picture, eval_data, limit=limit)
            scores[name] = {
                "teacher_psnr_db": round(agreement_db(single, teacher, eval_data, limit=limit), 2),
                "style_ratio": round(student_scores.style_ratio, 4),
                "teacher_style_ratio": round(teacher_scores.style_ratio, 4),
                "content_loss": round(student_scores.content_loss, 1),
                "teacher_content_loss": round(teacher_scores.content_loss, 1),
                "painting": str(picture),
            }
            print(name, json.dumps(scores[name]), flush=True)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run folder with checkpoint.pt and NAME.onnx (with --dry-run also a "
                        "multi-style network's name or file, e.g. paintings_rt)")
    parser.add_argument("--eval-data", required=True, type=Path, help="held-out photos, not used in training")
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--dry-run", action="store_true", help="score only; put nothing into the package")
    parser.add_argument("--calibrate", type=Path, default=Path("data/gcompris/photos"),
                        help="photos the int8 copy is calibrated on (training photos, not --eval-data)")
    args = parser.parse_args()
    if not args.dry_run and not (args.run / "checkpoint.pt").is_file():
        parser.error(f"{args.run} has no checkpoint.pt: only a run folder is put into the package")
    scores = score(args.run, args.eval_data, args.limit)
    if args.dry_run:
        return
    name = args.run.name
    card = StyleCard.from_json((args.run / f"{name}.json").read_text())
    evaluation = {"paintings": scores, "held_out_photos": str(args.eval_data), "images": args.limit, "size": 256,
                  "command": f"python scripts/ship_multistyle.py {args.run} --eval-data {args.eval_data} --dry-run"}
    install(args.run / f"{name}.onnx", StyleCard(**{**card.__dict__, "evaluation": evaluation}), args.run / f"{name}.jpg",
            args.calibrate)


if __name__ == "__main__":
    main()
