#!/usr/bin/env bash
# Install what is needed (once), then run the demo: simulate → train → forecast → evaluate.
# Output and figures go to outputs/demo (re-running resumes). Extra arguments go to
# `rollflow demo`, e.g. `bash scripts/demo.sh --out /tmp/demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/rollflow demo "$@"
