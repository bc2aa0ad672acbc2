#!/usr/bin/env bash
# Distil every bundled painting into one width-8 shuffle multi-style network (paintings_rt), on a
# CPU, resumably: a stage with a finished ONNX file is skipped, an interrupted one continues (--resume).
#
#   stylecast data gcompris data/gcompris      # the training photos, once
#   bash scripts/distill_multistyle.sh          # -> runs/multistyle/paintings_rt (about 1 hour on 2 cores)
#
# The wider network of the _lite_rt design (width 32, residual blocks squeezed to 64 channels; about
# 1 s a pixel step here):
#   NAME=paintings_lite WIDTH=32 BOTTLENECK=64 INIT=starry_night_lite_rt STEPS_A=3000 STEPS_B=300 \
#     bash scripts/distill_multistyle.sh
#   python scripts/ship_multistyle.py runs/multistyle/paintings_rt --eval-data /usr/share/backgrounds/mate/nature
#     (it quantizes on data/gcompris/photos: the package keeps the int8 copy only)
#
# Stage a: pixels only (0.15 s a step), from cafe_terrace_rt's weights in every row; the teachers'
# paintings of the photos are made once (4 minutes) and kept in its folder.
# Stage b: the texture term on half of each batch (VGG: about 2 s a step), so strokes are not smoothed away.
set -euo pipefail
data="${DATA:-data/gcompris/photos}"
paintings="cafe_terrace,great_wave,kandinsky,langlois_bridge,night_cafe,pere_tanguy,starry_night,the_scream"
name="${NAME:-paintings_rt}"
common=(--distill-from "$paintings" --data "$data" --width "${WIDTH:-8}" --bottleneck "${BOTTLENECK:-0}"
        --design shuffle --batch 8 --quiet)

stage() {  # stage OUT [options...]
  local out="$1"; shift
  [ -f "$out/$(basename "$out").onnx" ] && return 0
  local resume=()
  [ -f "$out/checkpoint.pt" ] && resume=(--resume)
  stylecast train "${common[@]}" --out "$out" "${resume[@]}" "$@"
}

stage "runs/multistyle/${name}_a" --steps "${STEPS_A:-8000}" --init-from "${INIT:-cafe_terrace_rt}" --checkpoint-every 100
stage "runs/multistyle/$name" --steps "${STEPS_B:-800}" --lr 2e-4 --texture-weight 5e-7 \
  --init-from "runs/multistyle/${name}_a/checkpoint.pt" --checkpoint-every 50
