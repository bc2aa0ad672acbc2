"""Run a stylecast command as it runs on an AVX2-only CPU (most laptops), on a newer CPU.

    python benchmarks/as_avx2.py bench live CLIP --size 1280x720 --model starry_night

oneDNN (OpenVINO's CPU kernels) is limited to AVX2 by ONEDNN_MAX_CPU_ISA, and OpenVINO's list of
the CPU's capabilities loses BF16, as an AVX2 CPU's has none (a bf16 hint under the AVX2 limit
paints garbage rather than failing). OpenCV's own dispatch (upsampling, smoothing, colour
conversion) loses AVX-512 by OPENCV_CPU_DISABLE. onnxruntime (MLAS) and FFmpeg's decoders have no
such switch and still use AVX-512 here, so decoding stays a little faster than on a real AVX2 CPU.
"""
from __future__ import annotations

import os
import sys

os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"  # read when oneDNN first dispatches: before openvino loads
# read when OpenCV loads; these are OpenCV's names for the AVX-512 groups it dispatches to
os.environ["OPENCV_CPU_DISABLE"] = "AVX512F,AVX512CD,AVX512BW,AVX512DQ,AVX512VL,AVX512-SKX,AVX512-CLX,AVX512-COMMON"

import openvino as ov  # noqa: E402

_get_property = ov.Core.get_property


def _avx2_property(self, *args):
    value = _get_property(self, *args)
    if args and args[-1] == "OPTIMIZATION_CAPABILITIES":
        value = [c for c in value if c != "BF16"]
    return value


ov.Core.get_property = _avx2_property

if __name__ == "__main__":
    from stylecast.cli import main

    print("as on an AVX2-only CPU: oneDNN and OpenCV limited to AVX2, no BF16 (benchmarks/as_avx2.py)", file=sys.stderr)
    sys.exit(main(sys.argv[1:]))
