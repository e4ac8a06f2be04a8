#!/usr/bin/env bash
# Does the shipped model's margin over the solvers hold on truth from another DNS grid?
# experiments/kf32/validation_256.toml (jax-cfd, DNS 256² → 32², 16 trajectories, one
# state each), forecast by MODEL (default the shipped kf32-rolling-k1; a shipped name or a run
# directory) with 8 members, symmetry members, float32,
# and jax-cfd at 32², 64², 128² from the same states, scored and reported with the paired
# interval against jax-cfd 64². Resumable (every store resumes or is kept).
# CONFIG (default experiments/kf32/validation_256.toml) names another such set; with
# SEGMENTS (frame indices, e.g. "0 50 100") its trajectories are cut into that many states
# each first.
#   bash experiments/kf32/shift_check.sh [OUT] [MODEL] [CONFIG] [SEGMENTS]  (≈ 25 min)
set -euo pipefail
cd "$(dirname "$0")/../.."
R=.venv/bin/rollflow
OUT=${1:-runs/shift_check}
MODEL=${2:-kf32-rolling-k1}
CONFIG=${3:-experiments/kf32/validation_256.toml}
SEGMENTS=${4:-}
NAME=$(basename "$MODEL")
STEM=$(basename "$CONFIG" .toml)
DATA=data/kf32/$STEM.zarr
mkdir -p "$OUT/scores"
$R simulate "$CONFIG" --out "$DATA" --workers 2      # resumes
if [ -n "$SEGMENTS" ]; then     # 61-frame segments from those frames, kept once written
    CUT=data/kf32/${STEM}_segments_${SEGMENTS// /-}.zarr     # e.g. …_segments_0-50-100
    [ -e "$CUT" ] || .venv/bin/python -c "import sys; from rollflow.store import cut_segments, open_trajectories, save_dataset; save_dataset(cut_segments(open_trajectories(sys.argv[1]), starts=[int(s) for s in sys.argv[3:]], num_frames=61, source_name=sys.argv[1]), sys.argv[2])" "$DATA" "$CUT" $SEGMENTS
    DATA=$CUT
fi
$R forecast "$MODEL" --data "$DATA" --out "$OUT/$NAME.zarr" --members 8 --symmetry-members \
    --init-index 2 --frames 50 --batch-size 8
[ -e "$OUT/solver_128.zarr" ] || $R baseline "$DATA" --resolution 32 64 128 --backend jaxcfd --init-index 2 --frames 50 \
    --out "$OUT/solver_{R}.zarr"
score() { [ -f "$OUT/scores/$2.nc" ] || $R evaluate "$OUT/$1.zarr" --truth "$DATA" --out "$OUT/scores/$2.nc" "${@:3}"; }
score "$NAME" "$NAME"
score "$NAME" "${NAME}_m1" --members 1
for r in 32 64 128; do score solver_$r solver_$r; done
$R report "$OUT"/scores/*.nc --out "$OUT/report" --pair "$NAME" solver_64
