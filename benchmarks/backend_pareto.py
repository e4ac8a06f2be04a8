"""The solver line drawn with either backend (issue 18): jax-cfd and exponax at 32², 64²,
128² from the same validation states, costs measured side by side.

    .venv/bin/python benchmarks/backend_pareto.py [--truth data/kf32/selection_segments.zarr]

Runs both solvers from frame `--init-index` of every segment of the (validation) truth store
for `--frames` frames, sizes outer and backends inner so that each pair is timed in one
stretch; scores each against the truth; prints T₀.₈ and seconds per t.u. per trajectory of
each, the paired difference exponax − jax-cfd at each grid, and draws both solver lines
(docs/figures/backends/pareto.png). Forecasts and scores go to --out (resumable).
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = {"jaxcfd": "jax-cfd", "exponax": "exponax"}


def main() -> None:
    from rollflow.analysis.plots import plot_pareto, save_figure
    from rollflow.analysis.readings import pareto_points, solver_readings
    from rollflow.analysis.tables import interval_text, paired_difference
    from rollflow.baselines import solver_forecast
    from rollflow.forecast import score_forecast_store
    from rollflow.provenance import git_commit, machine_description
    from rollflow.store import check_not_input, open_trajectories, read_spec, save_dataset

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--truth", type=Path, default=ROOT / "data/kf32/selection_segments.zarr")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/backends")
    parser.add_argument("--figure", type=Path, default=ROOT / "docs/figures/backends/pareto.png")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--init-index", type=int, default=2)
    parser.add_argument("--frames", type=int, default=50)
    args = parser.parse_args()
    check_not_input(args.out, [args.truth])
    spec = read_spec(args.truth)
    truth = open_trajectories(args.truth, validate=False)
    scores = {}
    for size in args.sizes:
        for backend in BACKENDS:
            name = f"{backend}_{size}"
            forecast, scored = args.out / f"{name}.zarr", args.out / f"{name}.nc"
            if not forecast.exists():
                print(f"{BACKENDS[backend]} {size}² from {truth.sizes['sample']} states",
                      flush=True)
                save_dataset(solver_forecast(truth.vorticity.load(), spec,
                                             init_index=args.init_index,
                                             num_frames=args.frames, simulation_size=size,
                                             source_attrs=truth.attrs, backend=backend),
                             forecast)
            if not scored.exists():
                save_dataset(score_forecast_store(forecast, args.truth), scored)
            scores[name] = open_trajectories(scored, validate=False).load()
    labels = {f"{b}_{s}": f"{BACKENDS[b]} {s}²" for s in args.sizes for b in BACKENDS}
    readings = solver_readings(scores, labels)
    print(f"commit {git_commit(ROOT)}, {machine_description()}; {args.truth.name}")
    print("| solver | grid | s per t.u. per trajectory | T₀.₈ [95 % CI] |")
    print("|---|---|---|---|")
    for r in readings:
        solver, grid = r.label.rsplit(" ", 1)
        print(f"| {solver} | {grid} | {r.cost:.3g} | {interval_text(r.T)} |")
    for size in args.sizes:
        diff = paired_difference(scores, f"exponax_{size}", f"jaxcfd_{size}").sel(threshold=0.8)
        print(f"exponax − jax-cfd at {size}²: ΔT₀.₈ = {float(diff.estimate):+.2f} "
              f"[{float(diff.lower):+.2f}, {float(diff.upper):+.2f}]")
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    save_figure(plot_pareto(pareto_points([], readings)), args.figure)
    print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
