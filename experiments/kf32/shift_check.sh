#!/usr/bin/env bash
# Does the shipped model's margin over the solvers hold on truth from another DNS grid?
# experiments/kf32/validation_256.toml (jax-cfd, DNS 256² → 32², 16 trajectories, one
# state each), forecast by MODEL (default the shipped kf32-rolling-k1; a shipped name or a run
# directory) with 8 members, symmetry members, float32,
# and jax-cfd at 32², 64², 128² from the same states, scored and reported with the paired
# interval against jax-cfd 64². Resumable (every store resumes or is kept).
#   bash experiments/kf32/shift_check.sh [OUT] [MODEL]    (default runs/shift_check; ≈ 25 min)
set -euo pipefail
cd "$(dirname "$0")/../.."
R=.venv/bin/rollflow
OUT=${1:-runs/shift_check}
DATA=data/kf32/validation_256.zarr
MODEL=${2:-kf32-rolling-k1}
NAME=$(basename "$MODEL")
mkdir -p "$OUT/scores"
$R simulate experiments/kf32/validation_256.toml --out "$DATA" --workers 2      # resumes
$R forecast "$MODEL" --data "$DATA" --out "$OUT/$NAME.zarr" --members 8 --symmetry-members \
    --init-index 2 --frames 50 --batch-size 8
[ -e "$OUT/solver_128.zarr" ] || $R baseline "$DATA" --resolution 32 64 128 --backend jaxcfd --init-index 2 --frames 50 \
    --out "$OUT/solver_{R}.zarr"
score() { [ -f "$OUT/scores/$2.nc" ] || $R evaluate "$OUT/$1.zarr" --truth "$DATA" --out "$OUT/scores/$2.nc" "${@:3}"; }
score "$NAME" "$NAME"
score "$NAME" "${NAME}_m1" --members 1
for r in 32 64 128; do score solver_$r solver_$r; done
$R report "$OUT"/scores/*.nc --out "$OUT/report" --pair "$NAME" solver_64
