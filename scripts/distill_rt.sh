#!/usr/bin/env bash
# Distil a painting's full network into a width-8 shuffle network (the design of cafe_terrace_rt,
# 22-28 ms a 640x480 frame on 2 AVX2 cores), on a CPU, resumably: each stage is skipped when its
# run already has a finished ONNX file, and an interrupted stage continues with --resume.
#
#   bash scripts/distill_rt.sh the_scream          # -> runs/the_scream_rt (about 15 minutes on 2 cores)
#   python scripts/ship_style.py runs/the_scream_rt --eval-data /usr/share/backgrounds/mate/nature --style PAINTING
#
# Needs `stylecast data gcompris data/gcompris` first (the training photos).
set -euo pipefail
name="$1"
data="${DATA:-data/gcompris/photos}"
common=(--distill-from "$name" --data "$data" --design shuffle --width 8 --quiet)

stage() {  # stage OUT STEPS [extra train options...]
  local out="$1" steps="$2"; shift 2
  [ -f "$out/$(basename "$out").onnx" ] && return 0
  local resume=()
  [ -f "$out/checkpoint.pt" ] && resume=(--resume)
  stylecast train "${common[@]}" --out "$out" --steps "$steps" "${resume[@]}" "$@"
}

stage "runs/${name}_rt_a" 1500
stage "runs/${name}_rt_b" 300 --lr 2e-4 --init-from "runs/${name}_rt_a/checkpoint.pt"
stage "runs/${name}_rt" 150 --lr 2e-4 --texture-weight 5e-7 --init-from "runs/${name}_rt_b/checkpoint.pt"
