#!/usr/bin/env bash
# Download (here, where PyPI is reachable) the wheels the lent GPU machine lacks for
# benchmarks/gpu.sh: the store layer's zarr stack and dask, for its Python 3.12 x86-64.
# They land in .whl/ (git-ignored); carry `.whl` in the device call.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
for spec in zarr==3.1.6 numcodecs==0.16.6 donfig==0.8.1.post1 crc32c==2.7.1 dask==2026.8.0 \
            toolz==1.0.0 partd==1.4.2 locket==1.0.0; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl "$spec"
done
ls -la .whl
