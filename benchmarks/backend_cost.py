"""Cost per simulated t.u. of each solver backend, side by side (issue 18).

    .venv/bin/python benchmarks/backend_cost.py [--store data/kf32/test_segments.zarr]

From the same 8 KF32 states (time index 2 of the store's first 8 samples), each backend
forecasts 5 t.u. at DNS 32², 64² and 128² with `rollflow.baselines.solver_forecast` (its
timing excludes compilation). The backends alternate, three rounds, and the median seconds
per t.u. per trajectory of each is printed with the exponax / jax-cfd ratio. exponax steps
at Courant ≤ 0.25 (rollflow.specs.COURANT_LIMIT), jax-cfd at 0.5.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from rollflow.baselines import solver_forecast
    from rollflow.provenance import git_commit, machine_description
    from rollflow.store import open_trajectories, read_spec

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=ROOT / "data/kf32/test_segments.zarr")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    spec = read_spec(args.store)
    truth = open_trajectories(args.store).vorticity.isel(sample=slice(0, 8)).load()
    print(f"commit {git_commit(ROOT)}, {machine_description()}; {truth.sizes['sample']} "
          f"states of {args.store.name}, 5 t.u., median of {args.rounds} alternating rounds")
    print("| DNS | jax-cfd s per t.u. | exponax s per t.u. | exponax / jax-cfd |")
    print("|---|---|---|---|")
    for size in (32, 64, 128):
        times = {"jaxcfd": [], "exponax": []}
        for _ in range(args.rounds):
            for backend in times:
                result = solver_forecast(truth, spec, init_index=2, num_frames=25,
                                         simulation_size=size, backend=backend)
                times[backend].append(result.attrs["forecast_seconds_per_time_unit"])
        a, b = (statistics.median(times[k]) for k in ("jaxcfd", "exponax"))
        print(f"| {size}² | {a:.4f} | {b:.4f} | {b / a:.2f} |", flush=True)


if __name__ == "__main__":
    main()
