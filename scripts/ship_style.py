"""Put a finished training run into the package: fp16-weight ONNX, card with held-out scores, thumbnail.

    python scripts/ship_style.py runs/cafe_terrace_fast --eval-data /usr/share/backgrounds/mate/nature
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import onnx

from stylecast.atomic import atomic_path
from stylecast.contract import METADATA_CARD_KEY, StyleCard
from stylecast.styles import STYLES_DIR
from stylecast.train.checkpoint import load_checkpoint
from stylecast.train.evaluate import evaluate_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="training run folder (has checkpoint.pt, NAME.fp16.onnx, NAME.json)")
    parser.add_argument("--eval-data", required=True, type=Path, help="held-out photos, not used in training")
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()
    name = args.run.name
    model = args.run / f"{name}.fp16.onnx"
    card = StyleCard.from_json((args.run / f"{name}.json").read_text())
    style_image = Path(load_checkpoint(args.run / "checkpoint.pt")["config"]["style"])
    scores = evaluate_model(model, style_image, args.eval_data, limit=args.limit)
    evaluation = {**scores.to_dict(), "held_out_photos": str(args.eval_data), "size": 256,
                  "command": f"stylecast eval-style {name} --style {style_image} --data {args.eval_data}"}
    card = StyleCard(**{**card.__dict__, "evaluation": evaluation})
    proto = onnx.load(str(model))
    for prop in proto.metadata_props:
        if prop.key == METADATA_CARD_KEY:
            prop.value = card.to_json()
    with atomic_path(STYLES_DIR / f"{name}.onnx") as tmp:
        onnx.save(proto, str(tmp))
    with atomic_path(STYLES_DIR / f"{name}.json") as tmp:
        tmp.write_text(card.to_json() + "\n")
    shutil.copyfile(args.run / f"{name}.jpg", STYLES_DIR / f"{name}.jpg")
    print(json.dumps(evaluation, indent=2))


if __name__ == "__main__":
    main()
