"""Issue 14: initial-condition ensembles for the shipped K = 1 student, ε chosen on the
selection set (24 validation trajectories × 3 states, seed 500), then the test set scored once.

    .venv/bin/python experiments/kf32/context_noise.py [--amplitudes 0 0.02 0.05 0.1 0.2]
    .venv/bin/python experiments/kf32/context_noise.py --test EPS      (the x4 test set, once)

For each ε the 8 symmetry members of `kf32-rolling-k1` (its card's ensemble) start from the
context (member 0, the control) or the context + ε σ η (members 1–7, `forecast.perturb`);
jax-cfd 32², 64², 128² forecast the same states right after the models (costs side by
side). Read: the 8-member mean's T₀.₈ paired against 64² (issue 14's second acceptance
point), the members' T₀.₈ and their spread–skill ratio over the first 2 t.u.; ε changes no
cost and not the control. The test run adds the one-member forecast (the M = 1 reading at
its own cost). Writes runs/kf32x4/context_noise/{selection,test}/ with summary.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MODEL, MEMBERS = "kf32-rolling-k1", 8
SOLVERS = {"solver_32": "jax-cfd 32²", "solver_64": "jax-cfd 64²", "solver_128": "jax-cfd 128²"}


def forecasts(truth_path: Path, target: Path, fc: dict, runs: dict[str, tuple]) -> None:
    """runs: name → (members, ε); every store resumes or is kept."""
    import torch

    from rollflow.forecast import forecast_with_progress, settings_from_plan
    from rollflow.store import open_trajectories
    from rollflow.training import load_trained

    torch.set_num_threads(2)
    target.mkdir(parents=True, exist_ok=True)
    truth, model = open_trajectories(truth_path), load_trained(MODEL)
    for name, (members, eps) in runs.items():
        settings = settings_from_plan(fc, num_members=members, symmetry_members=members > 1,
                                      context_noise=eps)
        forecast_with_progress(model, truth.vorticity, settings, target / f"{name}.zarr",
                               desc=f"forecast {name}", attrs=truth.attrs,
                               extra_attrs={"forecast_run_dir": MODEL})


def read(scores: dict, name: str, eps: float) -> dict:
    from rollflow.analysis.readings import worth_its_cost

    skill = scores[name]
    found = {"context_noise": eps, **worth_its_cost(scores, name, SOLVERS, reference="solver_64"),
             "T_mean": float(skill.decorrelation_mean_estimate.sel(threshold=0.8)),
             "T_member": float(skill.decorrelation_member_estimate.sel(threshold=0.8)),
             "spread_skill_2tu": float(skill.spread_skill.isel(time=slice(0, 10)).mean()),
             "crps_mean": float(skill.crps.mean())}       # over the leads (10 t.u.)
    d = found["ensemble_delta"]
    print(f"{name}: 8-member mean T0.8 {found['T_mean']:.2f}, − 64² {d[0]:+.2f} [{d[1]:+.2f}, "
          f"{d[2]:+.2f}]; members' T0.8 {found['T_member']:.2f}; spread/skill over 2 t.u. "
          f"{found['spread_skill_2tu']:.2f}; fair CRPS {found['crps_mean']:.3f}", file=sys.stderr)
    return found


def main(argv: list[str] | None = None) -> int:
    import xarray as xr

    from rollflow.baselines import reference_forecast_stores
    from rollflow.configio import load_toml
    from x4 import segments
    from x4_test import score_stores

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amplitudes", type=float, nargs="+", default=[0, 0.02, 0.05, 0.1, 0.2])
    parser.add_argument("--test", type=float, metavar="EPS", help="score the test set once")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32x4/context_noise")
    parser.add_argument("--data", type=Path, default=ROOT / "data/kf32")
    args = parser.parse_args(argv)
    plan = load_toml(HERE / "x4.toml")
    split = "selection" if args.test is None else "test"
    amplitudes = args.amplitudes if args.test is None else [args.test]
    truth = segments(plan, args.data, split, command="context_noise.py")
    out, fc = args.out / split, plan["test"]
    runs = {f"eps_{eps:g}": (MEMBERS, eps) for eps in amplitudes}
    forecasts(truth, out / "forecasts", fc, runs | ({"one_member": (1, 0.0)} if args.test
                                                   is not None else {}))
    reference_forecast_stores(truth, out / "forecasts", init_index=fc["init_index"],
                              num_frames=fc["frames"], solver_sizes=plan["solvers"])
    score_stores(out / "forecasts", truth, out / "scores")     # with 2-, 4-member subsets
    scores = {p.stem: xr.load_dataset(p) for p in sorted((out / "scores").glob("*.nc"))}
    summary = {name: read(scores, name, eps) for name, (_, eps) in runs.items()}
    if "one_member" in scores:
        summary["one_member"] = read(scores, "one_member", 0.0)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
