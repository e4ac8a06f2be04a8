"""Throughput of the scale-out engines on this machine: 1 vs 2 local workers / processes.

    flock /tmp/rollflow-heavy.lock .venv/bin/python benchmarks/scaling.py [--write]

Generation: `rollflow simulate experiments/kf32/test.toml` (128² DNS → 32²) with
--samples S serially and with --workers 2 (wall seconds, compile and cluster start
included). Training: `rollflow train experiments/kf32/rolling.toml --steps N` on the KF32
training store, one process vs --nproc 2 (same global batch 8; steps/s from the run's own
metrics, so start-up is excluded). Needs data/kf32/train.zarr (experiments/kf32/benchmark.py
--stages data). Run it on an otherwise idle machine: both engines want both cores.
--write stores the numbers in docs/figures/scaling.json (docs/scaling.md quotes them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLLFLOW = [sys.executable, "-m", "rollflow"]


def _timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def generation(scratch: Path, samples: int) -> dict:
    base = [*ROLLFLOW, "simulate", "experiments/kf32/test.toml", "--samples", str(samples),
            "--batch-size", "1", "--quiet"]
    serial = _timed([*base, "--out", str(scratch / "serial.zarr")])
    workers = _timed([*base, "--out", str(scratch / "workers.zarr"), "--workers", "2"])
    return {"trajectories": samples, "serial_s": serial, "workers2_s": workers,
            "speedup": serial / workers}


def _steps_per_s(run_dir: Path) -> float:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").open()]
    rates = [r["steps_per_s"] for r in records if r["kind"] == "train"][1:]  # skip warm-up
    return sorted(rates)[len(rates) // 2]


def training(scratch: Path, steps: int) -> dict:
    base = [*ROLLFLOW, "train", "experiments/kf32/rolling.toml", "--data",
            "data/kf32/train.zarr", "--steps", str(steps)]
    _timed([*base, "--out", str(scratch / "one")])
    _timed([*base, "--out", str(scratch / "two"), "--nproc", "2"])
    one, two = _steps_per_s(scratch / "one"), _steps_per_s(scratch / "two")
    return {"steps": steps, "batch": 8, "one_process_steps_per_s": one,
            "two_processes_steps_per_s": two, "speedup": two / one}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=4, help="trajectories to simulate")
    parser.add_argument("--steps", type=int, default=150, help="training steps per run")
    parser.add_argument("--write", action="store_true", help="write docs/figures/scaling.json")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="rollflow-scaling-"))
    try:
        result = {"generation": generation(scratch, args.samples),
                  "training": training(scratch, args.steps)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    result["provenance"] = {"command": "benchmarks/scaling.py", "commit": commit,
                            "machine": f"{platform.node()} ({os.cpu_count()} CPU cores)",
                            "date": datetime.now(timezone.utc).isoformat(timespec="minutes")}
    print(json.dumps(result, indent=1))
    if args.write:
        (ROOT / "docs" / "figures" / "scaling.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
