#!/usr/bin/env bash
# Create .venv and install rollflow with every layer's dependencies, once.
# The CPU build of torch is installed first and pinned, so nothing pulls the CUDA build.
# Re-runs are no-ops unless pyproject.toml or constraints.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.rollflow-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "[bootstrap] installing dependencies into .venv (first run takes a few minutes)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" >&2 || true
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
    -e '.[all,exponax,test]' 2>&1 | grep -v "is ignored: it is neither a file nor a directory" >&2 || true
  .venv/bin/python -c "import rollflow, torch, jax, jax_cfd, xarray, zarr, netCDF4" \
    || { echo "[bootstrap] install failed" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
