"""Milliseconds a guided upsampling takes, from a working size to a camera's size, on a real photo.

    python benchmarks/upsample_speed.py PHOTO [--pairs 256x144:1920x1080,432x244:1280x720] [--avx2]

`--avx2` applies benchmarks/as_avx2.py's limits (OpenCV kept to AVX2). The painting is the photo
blurred at the working size: what it shows does not change the arithmetic.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", type=Path)
    parser.add_argument("--pairs", default="256x144:1920x1080,432x244:1920x1080,432x244:1280x720")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--avx2", action="store_true")
    args = parser.parse_args()
    if args.avx2:
        sys.path.insert(0, str(Path(__file__).parent))
        importlib.import_module("as_avx2")  # sets the limits before OpenCV loads
    import cv2

    from stylecast.realtime.bench import parse_sizes, time_calls
    from stylecast.realtime.hd.painter import shrink
    from stylecast.realtime.hd.upsample import GuidedUpsampler

    photo = cv2.imread(str(args.photo))
    if photo is None:
        sys.exit(f"cannot read {args.photo}")
    for pair in args.pairs.split(","):
        work, shown = parse_sizes(pair.replace(":", ","))
        frame = cv2.resize(photo, shown, interpolation=cv2.INTER_AREA)
        small = shrink(frame, work)
        painting = cv2.GaussianBlur(small, (5, 5), 0)
        upsample = GuidedUpsampler()
        # the first call allocates the full-size buffers
        median, p90 = time_calls(lambda: upsample(painting, small, frame), args.calls, warmup=1)
        print(f"{pair}: median {median:.2f} ms, p90 {p90:.2f} ms")


if __name__ == "__main__":
    main()
