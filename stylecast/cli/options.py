"""Argument types and the flags several commands share; output helpers for --json."""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable

from stylecast.sizing import MIN_VGG_SIDE
from stylecast.styles import STILL_DEFAULT
from stylecast.styles.mixes import lone_network_note

BACKEND_CHOICES = ("auto", "cpu", "cuda", "torch", "openvino")


def number(text: str, kind: Callable[[str], float] = float) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a {'whole ' if kind is int else ''}number, not {text}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def style_name(text: str) -> str:
    """-s as typed: an empty one (an unset shell variable) would otherwise paint the default, or read as ``.``."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: give a style name, an .onnx file or a mix (see 'stylecast styles')")
    return text


def positive_int(text: str) -> int:
    value = int(number(text, int))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text}")
    return value


def vgg_side(text: str) -> int:
    """A picture side the VGG losses can score (``--size``, ``--style-size``)."""
    value = positive_int(text)
    if value < MIN_VGG_SIDE:
        raise argparse.ArgumentTypeError(f"must be {MIN_VGG_SIDE} or more (the VGG losses need that much), not {text}")
    return value


def crop_size(text: str) -> int:
    """A training crop: a side the VGG losses can score, and a multiple of 4 (two stride-2 steps down and up)."""
    value = vgg_side(text)
    if value % 4:
        raise argparse.ArgumentTypeError(f"must be a multiple of 4, not {text} (try {value - value % 4 or 4})")
    return value


def non_negative(text: str) -> float:
    value = number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def positive(text: str) -> float:
    value = number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def strength(text: str) -> float:
    value = number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def port(text: str) -> int:
    value = int(number(text, int))
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {text}")
    return value


MIN_TOKEN = 8  # 62**8 guesses: out of reach over HTTP, still short enough to type into OBS


def token(text: str) -> str:
    """--token: URL-safe (it rides in the page's URL as it is) and not guessable in a few tries; empty
    leaves it to the sink (a random one beyond loopback)."""
    if text and not re.fullmatch(rf"[A-Za-z0-9._~-]{{{MIN_TOKEN},}}", text):
        raise argparse.ArgumentTypeError(f"must be {MIN_TOKEN} or more letters, digits or . _ ~ - (leave it out "
                                         f"for a random one)")
    return text


def seed(text: str) -> int:
    """A random seed: 0 to 2**32 - 1, the range every generator it seeds (torch, numpy, random) takes."""
    value = int(number(text, int))
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {2 ** 32 - 1}, not {text}")
    return value


def painting_name(text: str) -> str:
    """A painting's name in a multi-style network: it is typed after -s NETWORK.onnx: and in mixes
    (a=0.5,b=0.5) and sent to the HTTP API, so no spaces, '=', ',' or ':'."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise argparse.ArgumentTypeError(f"must be letters, digits, _ or - (it is typed in -s NETWORK.onnx:NAME and "
                                         f"in mixes), not {text!r}")
    return text


def non_negative_int(text: str) -> int:
    value = int(number(text, int))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def stroke_scale(text: str) -> float:
    from stylecast.realtime.hd.working_size import MAX_STROKE_SCALE, MIN_STROKE_SCALE

    value = number(text)
    if not MIN_STROKE_SCALE <= value <= MAX_STROKE_SCALE:
        raise argparse.ArgumentTypeError(f"must be {MIN_STROKE_SCALE:g}-{MAX_STROKE_SCALE:g}, not {text}")
    return value


def work_size(text: str) -> int:
    value = positive_int(text)
    if value < 16:
        raise argparse.ArgumentTypeError(f"must be 16 or more, not {text}")
    return value


STROKE_HELP = ("brush strokes this many times as big as the style was trained with, at any output size "
               "(default 1: as the style looks at 640 px on the long side; 2: twice as bold). The frame is painted "
               "at 640/S px on its long side and brought back to its own size by edge-aware (guided) upsampling")


def add_stroke_scale(p: argparse.ArgumentParser, **kw) -> None:
    p.add_argument("--stroke-scale", type=stroke_scale, metavar="S", help=STROKE_HELP, **({"default": 1.0} | kw))


PAINT_HELP = ("where the painting shows: all (default), background (people stay as filmed: a call in front of a "
              "painted room) or person (a painted person in front of the real room). People are found by a small "
              "bundled segmentation network (MediaPipe selfie segmentation), about 3 ms a frame")


def add_paint(p: argparse.ArgumentParser, **kw) -> None:
    from stylecast.segment import PAINT_CHOICES

    p.add_argument("--paint", choices=PAINT_CHOICES, help=PAINT_HELP, **({"default": "all"} | kw))


def add_governor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--work-size", type=work_size, metavar="N",
                   help="paint every frame at N px on its long side, fixed (default: the governor picks it)")
    p.add_argument("--no-governor", action="store_true",
                   help="paint at the stroke scale's size with the style as named, even if that cannot keep up with the "
                        "source (default: a governor lowers the working size, and where the painting ships on lighter "
                        "networks the network, until it keeps up, and raises them again when there is room)")


def add_backend(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto",
                   help="runtime: auto tries CUDA (onnxruntime-gpu), then PyTorch on a CUDA GPU, then OpenVINO, "
                        "then onnxruntime CPU; torch by name also runs on the CPU")


def style_or_default(args: argparse.Namespace) -> str:
    """-s as given, else the offline default, said on stderr so a user knows what painted the result."""
    if args.style:
        if (note := lone_network_note(args.style)) is not None:
            print(note, file=sys.stderr)
        return args.style
    print(f"style: {STILL_DEFAULT} (the default; -s NAME picks another, 'stylecast styles' lists them)", file=sys.stderr)
    return STILL_DEFAULT


def strict(value):
    """Non-finite floats as null: strict JSON parsers (jq, JSON.parse) reject NaN and Infinity."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value


def print_json(document: dict) -> None:
    """One strict JSON document on stdout (everything else goes to stderr)."""
    import json

    print(json.dumps(strict(document), indent=2, allow_nan=False))


def machine(args: argparse.Namespace) -> tuple[str, dict]:
    """The CPU line every bench prints with its numbers, and the same for --json."""
    import os

    from stylecast.machine import cpu_info

    info, limit = cpu_info(), os.environ.get("ONEDNN_MAX_CPU_ISA")
    return info.line(limit), info.to_dict(limit)


def flow_scale(text: str) -> float:
    value = number(text)
    if not 0.1 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a scale between 0.1 and 1")
    return value


def add_existing(p: argparse.ArgumentParser) -> None:
    """What to do with outputs that exist: refuse (the default), replace them, or leave them and their inputs out."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--overwrite", action="store_true", help="replace existing output files")
    group.add_argument("--skip-existing", action="store_true",
                       help="leave outputs that exist as they are and paint only the missing ones (finish an interrupted batch)")
