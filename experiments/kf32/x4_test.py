"""The test stages of experiments/kf32/x4.py: forecasts (models, then solvers, back to back
so that their costs are measured side by side), evaluation, report. Library calls only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name → (model, members, precision): the final candidates, their single-member runs (the
# M = 1 reading's own cost), bf16 variants, and today's shipped models on the same states
MEMBERS_FULL = 8


def say(text: str) -> None:
    print(f"[x4] {text}", file=sys.stderr, flush=True)


def _chosen(out: Path, name: str) -> float | None:
    path = out / name / "ema_choice.json"
    return json.loads(path.read_text())["chosen"] if path.exists() else None


def _symmetric(out: Path, name: str) -> bool:
    path = out / name / "sampling_choice.json"
    return json.loads(path.read_text())["symmetry_members"] if path.exists() else False


def forecasters(plan: dict, out: Path) -> dict:
    runs = [n for n in ("teacher", "student_k2", "student_k1") if (out / n).exists()]
    table = {}
    for run in runs:
        table[run] = (run, MEMBERS_FULL, "float32")
        table[f"{run}_m1"] = (run, 1, "float32")
    if "student_k1" in runs:
        table["student_k1_bf16"] = ("student_k1", MEMBERS_FULL, "bfloat16")
        table["student_k1_bf16_m1"] = ("student_k1", 1, "bfloat16")
    for name in plan["shipped"]:
        table[name] = (name, MEMBERS_FULL, "float32")
    return table


def forecast_stage(plan: dict, out: Path, store: Path) -> None:
    import torch

    from rollflow.baselines import reference_forecast_stores
    from rollflow.forecast import forecast_with_progress, frames_for_horizon, settings_from_plan
    from rollflow.store import open_trajectories
    from rollflow.training import load_trained

    torch.set_num_threads(2)
    test, fc = store / "test_segments.zarr", plan["test"]
    truth = open_trajectories(test)
    target = out / "forecasts"
    target.mkdir(parents=True, exist_ok=True)
    for name, (model_ref, members, precision) in forecasters(plan, out).items():
        ref = str(out / model_ref) if (out / model_ref).exists() else model_ref
        model = load_trained(ref, ema_decay=_chosen(out, model_ref))
        settings = settings_from_plan(
            fc, num_frames=frames_for_horizon(model, fc["frames"]), num_members=members,
            precision=precision, symmetry_members=members > 1 and _symmetric(out, model_ref))
        forecast_with_progress(model, truth.vorticity, settings, target / f"{name}.zarr",
                               desc=f"forecast {name} ({members} members, {precision})",
                               attrs=truth.attrs, extra_attrs={
                                   "forecast_run_dir": ref, "forecast_checkpoint_step": model.step})
    reference_forecast_stores(test, target, init_index=fc["init_index"], num_frames=fc["frames"],
                              solver_sizes=plan["solvers"], climate_path=store / "train128.zarr",
                              num_members=MEMBERS_FULL, seed=fc["seed"], say=say)


def evaluate_stage(plan: dict, out: Path, store: Path) -> None:
    """Scores of every forecast against the states it started from (provenance checked),
    and of its 2- and 4-member subsets (the ensemble-size curves)."""
    from rollflow.forecast import score_forecast_store
    from rollflow.store import open_trajectories, save_dataset

    truth, target = store / "test_segments.zarr", out / "scores"
    target.mkdir(parents=True, exist_ok=True)
    for source in sorted((out / "forecasts").glob("*.zarr")):
        members = open_trajectories(source, validate=False).sizes["member"]
        for m in [m for m in (2, 4) if m < members] + [members]:
            path = target / f"{source.stem if m == members else f'{source.stem}_m{m}'}.nc"
            if path.exists():
                continue
            skill = score_forecast_store(source, truth, members=m)
            save_dataset(skill, path)
            say(f"evaluate {path.stem}: T0.8 ensemble mean "
                f"{float(skill.decorrelation_mean_estimate.sel(threshold=0.8)):.2f}, "
                f"single member {float(skill.decorrelation_member_estimate.sel(threshold=0.8)):.2f}")


def run_stage(stage: str, plan: dict, out: Path, store: Path) -> None:
    if stage == "forecast":
        forecast_stage(plan, out, store)
    elif stage == "evaluate":
        evaluate_stage(plan, out, store)
    else:
        import subprocess

        subprocess.run([sys.executable, str(HERE / "x4_report.py"), "--out", str(out)],
                       check=True)
