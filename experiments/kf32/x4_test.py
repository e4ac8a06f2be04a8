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
    """Whether `name` (a run or a shipped model) forecasts with symmetry members, as the
    select stage chose on validation."""
    path = out / "sampling" / f"{name}.json"
    return json.loads(path.read_text())["symmetry_members"] if path.exists() else False


def model_path(out: Path, name: str) -> str:
    """How `load_trained` finds `name`: a run of the plan (out/name), a blend the train stage
    wrote (out/name.safetensors), else a shipped model's name."""
    if (out / name).is_dir():
        return str(out / name)
    if (blend := out / f"{name}.safetensors").is_file():
        return str(blend)
    return name


def candidates(plan: dict) -> dict:
    """The choose stage's forecasters: each candidate run at each precision, with all
    members and with one (named <run>, <run>_bf16, and <name>_m1)."""
    tags = {"float32": "", "bfloat16": "_bf16"}
    return {f"{run}{tags[precision]}{'_m1' if m == 1 else ''}": (run, m, precision)
            for run in plan["choose"]["candidates"] for precision in plan["choose"]["precisions"]
            for m in (MEMBERS_FULL, 1)}


def forecasters(plan: dict, out: Path) -> dict:
    """The test set's forecasters: the final model chosen on the selection set (all its
    members and one, at the chosen precision) and today's shipped models. Intermediate
    runs (teachers, other students) are judged on validation only."""
    table = {}
    if (choice := out / "final_choice.json").exists():    # the chosen model and precision
        chosen = json.loads(choice.read_text())["chosen"]
        table |= {n: e for n, e in candidates(plan).items() if n.removesuffix("_m1") == chosen}
    for name in plan["shipped"]:
        table[name] = (name, MEMBERS_FULL, "float32")
    return table


def forecast_models(table: dict, truth_path: Path, target: Path, fc: dict, out: Path) -> None:
    """Forecasts of every `table` entry (name → (model, members, precision)) from the
    states of `truth_path` into `target`/<name>.zarr (finished stores are kept)."""
    import torch

    from rollflow.forecast import forecast_with_progress, frames_for_horizon, settings_from_plan
    from rollflow.store import open_trajectories
    from rollflow.training import load_trained

    torch.set_num_threads(2)
    truth = open_trajectories(truth_path)
    target.mkdir(parents=True, exist_ok=True)
    for name, (model_ref, members, precision) in table.items():
        ref = model_path(out, model_ref)
        model = load_trained(ref, ema_decay=_chosen(out, model_ref))
        settings = settings_from_plan(
            fc, num_frames=frames_for_horizon(model, fc["frames"]), num_members=members,
            precision=precision, symmetry_members=members > 1 and _symmetric(out, model_ref))
        forecast_with_progress(model, truth.vorticity, settings, target / f"{name}.zarr",
                               desc=f"forecast {name} ({members} members, {precision})",
                               attrs=truth.attrs, extra_attrs={
                                   "forecast_run_dir": ref, "forecast_checkpoint_step": model.step})


def solver_references(plan: dict, truth_path: Path, target: Path, store: Path) -> None:
    """jax-cfd at the plan's sizes, persistence and climatologies of the plan's training
    store (run right after the models, so that their costs are measured side by side)."""
    from rollflow.baselines import reference_forecast_stores

    fc = plan["test"]
    reference_forecast_stores(truth_path, target, init_index=fc["init_index"],
                              num_frames=fc["frames"], solver_sizes=plan["solvers"],
                              climate_path=store / f"{Path(plan['data']['train']).stem}.zarr",
                              num_members=MEMBERS_FULL,
                              seed=fc["seed"], say=say)


def score_stores(forecasts: Path, truth: Path, target: Path) -> None:
    """Scores of every forecast against the states it started from (provenance checked),
    and of its 2- and 4-member subsets (the ensemble-size curves)."""
    from rollflow.forecast import score_forecast_store
    from rollflow.store import open_trajectories, save_dataset

    target.mkdir(parents=True, exist_ok=True)
    for source in sorted(forecasts.glob("*.zarr")):
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


def run_stage(stage: str, plan: dict, out: Path, store: Path, plan_path: Path) -> None:
    test = store / "test_segments.zarr"
    if stage == "choose":
        from x4_choose import choose_stage

        choose_stage(plan, out, store)
    elif stage == "forecast":
        forecast_models(forecasters(plan, out), test, out / "forecasts", plan["test"], out)
        solver_references(plan, test, out / "forecasts", store)
    elif stage == "evaluate":
        score_stores(out / "forecasts", test, out / "scores")
    else:
        import subprocess

        subprocess.run([sys.executable, str(HERE / "x4_report.py"), "--out", str(out),
                        "--plan", str(plan_path)], check=True)   # the plan's [report] block

