"""Average the weights of fine-tuned runs of one network into a new run ("model soup").

    python scripts/average_runs.py runs/cafe_terrace_steady5 runs/cafe_terrace_steady4 \\
        --shares 0.6 0.4 --out runs/cafe_terrace_fast_steady
    python scripts/ship_style.py runs/cafe_terrace_fast_steady --eval-data /usr/share/backgrounds/mate/nature
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stylecast.errors import StylecastError
from stylecast.train.average import average_runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (each has checkpoint.pt)")
    parser.add_argument("--shares", nargs="+", type=float, help="one weight per run (default: equal)")
    parser.add_argument("--out", required=True, type=Path, help="new run folder; its name becomes the style name")
    args = parser.parse_args()
    shares = args.shares or [1.0] * len(args.runs)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"error: {args.out} is not empty", file=sys.stderr)
        return 2
    try:
        average_runs([r / "checkpoint.pt" for r in args.runs], shares, args.out)
    except StylecastError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out / 'checkpoint.pt'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
