#!/usr/bin/env bash
# Every GPU measurement issue #7 asks for, as one device call (about 6-8 minutes), results in $OUT.
#
#   here, once, in the project's venv:   bash benchmarks/gpu_check.sh --prepare
#   device tool:  run(command="bash benchmarks/gpu_check.sh", carry=[".whl", ".gpudata"], timeout_s=540)
#
# The device budget is 15 minutes in all, starts included, so there is no second try: the steps run
# in order of importance and each has its own limit.
#
# --prepare fetches the wheels the device image may lack (onnx, which unpacks the bundled styles'
# float networks; onnxconverter-common, for the fp16 rewrite) into .whl and puts 16 training photos
# at 256 px into .gpudata, both ignored by git. The whole working tree travels too and the limit is
# 64 MiB, so nothing larger fits: onnxruntime-gpu (255 MB) cannot be carried.
# The image's own onnxruntime decides whether the CUDA rows run; its providers are the first thing
# printed. SIZES=320x240 STEPS=5 make a quick dry run on a CPU.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --prepare ]; then
  mkdir -p .git/info
  for ignored in /.whl/ /.gpudata/; do
    grep -qsx "$ignored" .git/info/exclude || echo "$ignored" >> .git/info/exclude
  done
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .whl onnx onnxconverter-common || exit 1
  mkdir -p .gpudata
  python3 - <<'EOF' || exit 1
import cv2
from pathlib import Path
photos = sorted(Path("data/gcompris/photos").glob("*"))[:16]
if not photos:
    raise SystemExit("no photos in data/gcompris/photos: run stylecast data gcompris data/gcompris first")
for p in photos:
    image = cv2.imread(str(p))
    scale = 320 / min(image.shape[:2])
    cv2.imwrite(f".gpudata/{p.stem}.jpg", cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
EOF
  du -sh .whl .gpudata
  # What the device tool sends: tracked and untracked-but-not-ignored files, plus the carry.
  # Over its 64 MiB the call would fail on the device, after the start-up time is spent.
  tree_size() {  # the files git lists
    git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done \
      | du -cb --files0-from=- | tail -1 | cut -f1
  }
  tree=$(tree_size)
  carry=$(du -cb .whl .gpudata | tail -1 | cut -f1)
  limit=$((64 * 1024 * 1024))
  echo "to send: $((tree + carry)) bytes (tree $tree, carry $carry) of $limit"
  if [ $((tree + carry)) -gt "$limit" ]; then
    echo "too big for the device tool: carry fewer photos or styles" >&2
    exit 1
  fi
  exit 0
fi

out="${OUT:-/tmp/gpu_check}"
mkdir -p "$out"
sizes="${SIZES:-1920x1080,3840x2160}"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH="$PWD:/tmp/site"
fi

step() {  # name, seconds, command...: one step's output in $OUT/NAME.txt; a failed step does not stop the rest
  local name=$1 limit=$2
  shift 2
  echo "== $name"
  timeout "$limit" "$@" > "$out/$name.txt" 2>&1
  echo "exit $?" >> "$out/$name.txt"
  tail -n 25 "$out/$name.txt"
}

# Most important first: each step writes its file as it ends, so a call cut short keeps what came before.
step env 60 bash -c 'nvidia-smi; python3 -c "
import onnxruntime as o, torch
print(\"onnxruntime\", o.__version__, o.get_available_providers())
print(\"torch\", torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())"'
# The issue's numbers: frame in to frame out, eager CUDA graphs and TorchInductor side by side.
step bench_cuda 300 python3 -m stylecast bench --model starry_night --backends cuda,torch,torch:compile \
  --sizes "640x480,$sizes" --runs 20
step tests_cuda 120 python3 -m pytest -q -p no:cacheprovider tests/realtime/runtimes/test_backends.py tests/realtime/runtimes/test_frame_graph.py \
  tests/realtime/runtimes/test_torch_backend.py
step gpu_speed_starry_night 180 python3 benchmarks/gpu_speed.py "$(python3 -c 'from stylecast.styles import resolve_style as r; print(r("starry_night"))')" --sizes "$sizes" --runs 30
# Distillation on the GPU: the teacher is a torch module on the training device (never run on CUDA before).
step distill_cuda 120 python3 -m stylecast train --distill-from starry_night --data .gpudata --bottleneck 64 \
  --design shuffle --out "$(mktemp -d)/gpu_distill" --steps "${STEPS:-200}" --quiet
step gpu_speed_starry_night_lite 150 python3 benchmarks/gpu_speed.py "$(python3 -c 'from stylecast.styles import resolve_style as r; print(r("starry_night_lite"))')" --sizes "$sizes" --runs 30
