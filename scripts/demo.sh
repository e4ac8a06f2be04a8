#!/usr/bin/env bash
# Install what is needed (once), then run the demo: test trajectories → forecast with the
# shipped model → 32² and 64² solvers → scores side by side. Output and figures go to
# outputs/demo (re-running resumes). Extra arguments go to `rollflow demo`, e.g.
# `bash scripts/demo.sh --train` (train a model of your own first) or `--out /tmp/demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/rollflow demo "$@"
