"""Put a finished training run into the package: its int8 network, card with held-out scores, thumbnail.

    python scripts/ship_style.py runs/cafe_terrace_fast --eval-data /usr/share/backgrounds/mate/nature \
        [--calibrate data/gcompris/photos]

The package keeps only the int8 copy (calibrated on --calibrate, training photos); the float network
is rebuilt from it where stylecast is used (``stylecast.styles.unpack``).

A distilled run (train --distill-from) is also scored by PSNR against its teacher on the same photos.
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import onnx

from stylecast.atomic import atomic_path
from stylecast.contract import INT8_SUFFIX, METADATA_CARD_KEY, StyleCard
from stylecast.export.onnx import export_checkpoint
from stylecast.export.quantize import quantize_model
from stylecast.styles import PACKAGE_DIR
from stylecast.train.checkpoint import load_checkpoint
from stylecast.train.distill import agreement_db
from stylecast.train.evaluate import evaluate_model
from stylecast.train.trainer import write_card_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="training run folder (has checkpoint.pt; NAME.fp16.onnx and NAME.json are made if missing)")
    parser.add_argument("--eval-data", required=True, type=Path, help="held-out photos, not used in training")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--calibrate", type=Path, default=Path("data/gcompris/photos"),
                        help="photos the int8 copy is calibrated on (training photos, not --eval-data)")
    parser.add_argument("--style", type=Path, help="painting to score against (default: the run's style image; "
                                                  "give the full painting for a distilled run, which kept only a thumbnail)")
    args = parser.parse_args()
    name = args.run.name
    model = args.run / f"{name}.fp16.onnx"
    checkpoint = load_checkpoint(args.run / "checkpoint.pt")
    style_image = Path(checkpoint["config"]["style"])
    scored_against = args.style or style_image
    if not model.is_file():  # a run trained elsewhere (e.g. on a lent GPU) comes back as its checkpoint only
        export_checkpoint(args.run / "checkpoint.pt", args.run / f"{name}.onnx", fp16=True, overwrite=True)
        write_card_files(StyleCard(**{**checkpoint["card"], "name": name}), args.run, style_image)
    card = StyleCard.from_json((args.run / f"{name}.json").read_text())
    scores = evaluate_model(model, scored_against, args.eval_data, limit=args.limit)
    evaluation = {**scores.to_dict(), "held_out_photos": str(args.eval_data), "size": 256,
                  "command": f"stylecast eval-style {name} --style {scored_against} --data {args.eval_data}"}
    teacher = checkpoint["config"].get("distill_from")
    if teacher:
        evaluation["teacher_psnr_db"] = round(agreement_db(model, Path(teacher), args.eval_data, limit=args.limit), 2)
    install(model, StyleCard(**{**card.__dict__, "evaluation": evaluation}), args.run / f"{name}.jpg", args.calibrate)
    print(json.dumps(evaluation, indent=2))


def install(model: Path, card: StyleCard, thumbnail: Path, calibrate: Path) -> None:
    """``model`` into the package as ``card.name``: its int8 copy with ``card`` in its metadata, the card
    beside it, and its picture."""
    proto = onnx.load(str(model))
    for prop in proto.metadata_props:
        if prop.key == METADATA_CARD_KEY:
            prop.value = card.to_json()
    with tempfile.TemporaryDirectory() as work:
        carded = Path(work) / f"{card.name}.onnx"
        onnx.save(proto, str(carded))
        report = quantize_model(carded, calibrate, out=PACKAGE_DIR / f"{card.name}{INT8_SUFFIX}", overwrite=True)
    print(f"{report.path}: int8 at {report.psnr_db:.1f} dB against float, {report.bytes / 1e6:.2f} MB")
    with atomic_path(PACKAGE_DIR / f"{card.name}.json") as tmp:
        tmp.write_text(card.to_json() + "\n")
    shutil.copyfile(thumbnail, PACKAGE_DIR / f"{card.name}.jpg")


if __name__ == "__main__":
    main()
