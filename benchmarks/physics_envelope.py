"""The reference envelope of a standard flow, shipped in rollflow/analysis/envelopes.json
(issue 18).

    .venv/bin/python benchmarks/physics_envelope.py KF32 data/kf32/train128.zarr \
        --check data/kf32/validation_long.zarr data/kf32/test_long.zarr

Estimates μ, the standard deviation over time s and the integral time τ of the kinetic
energy, enstrophy, injection and eddy momentum flux over every sample of the reference
store (`rollflow.analysis.envelope.envelope_of`), writes them under NAME with the command,
commit and machine, then prints, per quantity, the predicted spread of a per-sample time
mean (s √(2τ/D)) next to the measured spread of the reference samples' means, and checks
that every sample of the --check stores (same flow, other seeds and lengths) lies inside.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "rollflow/analysis/envelopes.json"


def main() -> None:
    from rollflow.analysis.budget import spec_physics_checks
    from rollflow.analysis.envelope import (QUANTITIES, SIGMAS, envelope_messages, envelope_of,
                                            reference_envelope, time_mean_spread)
    from rollflow.provenance import git_commit, machine_description
    from rollflow.store import open_trajectories, read_spec

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="envelope name, e.g. KF32")
    parser.add_argument("store", type=Path, help="the reference trajectory store")
    parser.add_argument("--check", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    spec = read_spec(args.store)
    with open_trajectories(args.store) as ds:
        envelope = envelope_of(ds.vorticity, spec)
    envelope["source"] = {"store": str(args.store.resolve().relative_to(ROOT)),
                          "command": " ".join(["benchmarks/physics_envelope.py",
                                               *sys.argv[1:]]),
                          "commit": git_commit(ROOT), "machine": machine_description(),
                          "date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}
    shipped = json.loads(TARGET.read_text())
    shipped["envelopes"][args.name] = envelope
    TARGET.write_text(json.dumps(shipped, indent=1, sort_keys=True) + "\n")
    duration = envelope["duration_per_sample"]
    print(f"{args.name}: {envelope['samples']} samples × {duration:g} t.u. of {args.store}")
    print("| quantity | μ | s | τ (t.u.) | predicted spread of a sample mean | measured |")
    print("|---|---|---|---|---|---|")
    for name in QUANTITIES:
        q = envelope[name]
        predicted = q["std_over_time"] * math.sqrt(min(1, 2 * q["integral_time"] / duration))
        print(f"| {name.replace('_', ' ')} | {q['mean']:.4g} | {q['std_over_time']:.3g} | "
              f"{q['integral_time']:.3g} | {predicted:.3g} | {q['std_of_sample_means']:.3g} |")
    reference = reference_envelope(spec)
    for path in args.check:
        other = read_spec(path)
        with open_trajectories(path) as ds:
            checks = spec_physics_checks(ds.vorticity, other)
        length = other.save_interval * (other.num_frames - 1)
        lines = envelope_messages(checks, reference, length)
        total = envelope["total_duration"]
        widths = ", ".join(f"{n.replace('_', ' ')} ± "
                           f"{SIGMAS * time_mean_spread(reference[n], length, total):.2g}"
                           for n in QUANTITIES)
        print(f"{path}: {checks.sizes['sample']} samples × {length:g} t.u.: "
              f"{'all inside' if not lines else f'{len(lines)} outside: ' + lines[0]} ({widths})")


if __name__ == "__main__":
    main()
