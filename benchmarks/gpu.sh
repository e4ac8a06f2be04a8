#!/usr/bin/env bash
# GPU checks in one command, under 8 minutes on one H200: the gpu-marked tests, training
# samples/s (fp32 vs bf16 autocast) and sampling frames/s at 32² and 64², and a short KF64
# training through the real loop. The CPU path never depends on it.
#
# On a machine with CUDA and the project's Python packages:   bash benchmarks/gpu.sh
# On the lent device (its python3 has torch, xarray, scipy, tqdm but not zarr, dask or
# numcodecs): first, here, `bash benchmarks/gpu_wheels.sh` (fills .whl/), then run this
# script there with `.whl` carried. Results: $OUT/gpu.json, $OUT/tests.log, $OUT/bench.log
# (OUT defaults to outputs/gpu); copy the numbers into docs/performance.md.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-outputs/gpu}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
if [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ]; then PY=.venv/bin/python; fi
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/device.txt"
timeout 180 $PY -m pytest -q -m gpu tests/test_gpu.py -p no:cacheprovider 2>&1 | tee "$OUT/tests.log"
timeout 270 $PY benchmarks/gpu.py --out "$OUT/gpu.json" 2>&1 | tee "$OUT/bench.log"
