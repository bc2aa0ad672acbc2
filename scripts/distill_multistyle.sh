#!/usr/bin/env bash
# Distil every bundled painting into one width-8 shuffle multi-style network (paintings_rt), on a
# CPU, resumably: a stage with a finished ONNX file is skipped, an interrupted one continues (--resume).
#
#   stylecast data gcompris data/gcompris      # the training photos, once
#   bash scripts/distill_multistyle.sh          # -> runs/multistyle/paintings_rt (about 1 hour on 2 cores)
#   python scripts/ship_multistyle.py runs/multistyle/paintings_rt --eval-data /usr/share/backgrounds/mate/nature
#     (it quantizes on data/gcompris/photos: the package keeps the int8 copy only)
#
# Stage a: pixels only (0.15 s a step), from cafe_terrace_rt's weights in every row; the teachers'
# paintings of the photos are made once (4 minutes) and kept in its folder.
# Stage b: the texture term on half of each batch (VGG: about 2 s a step), so strokes are not smoothed away.
set -euo pipefail
data="${DATA:-data/gcompris/photos}"
paintings="cafe_terrace,great_wave,kandinsky,langlois_bridge,night_cafe,pere_tanguy,starry_night,the_scream"
common=(--distill-from "$paintings" --data "$data" --width 8 --design shuffle --batch 8 --quiet)

stage() {  # stage OUT [options...]
  local out="$1"; shift
  [ -f "$out/$(basename "$out").onnx" ] && return 0
  local resume=()
  [ -f "$out/checkpoint.pt" ] && resume=(--resume)
  stylecast train "${common[@]}" --out "$out" "${resume[@]}" "$@"
}

stage runs/multistyle/paintings_rt_a --steps 8000 --init-from cafe_terrace_rt --checkpoint-every 100
stage runs/multistyle/paintings_rt --steps 800 --lr 2e-4 --texture-weight 5e-7 \
  --init-from runs/multistyle/paintings_rt_a/checkpoint.pt --checkpoint-every 50
