"""The test stages of experiments/kf32/benchmark.py: forecasts of every model (its run here,
or the weights it shipped at a commit of this repository), the deterministic model's
symmetry ensemble, the solver ladder and the no-skill references (run back to back, so that
costs are measured side by side), scores, long rollouts. Library calls only."""

from __future__ import annotations

from pathlib import Path

from rollflow.baselines import reference_forecast_stores
from rollflow.conventions import SAMPLE, VORTICITY
from rollflow.forecast import (forecast_with_progress, rollout_statistics, score_forecast_store,
                               settings_from_plan)
from rollflow.stages import announcer
from rollflow.store import open_trajectories, save_dataset
from rollflow.training import latest_progress, load_train_config, load_trained
from rollflow.training.shipped import released_model

HERE = Path(__file__).resolve().parent
_say = announcer("benchmark")


def model_ref(name: str, plan: dict, paths) -> Path | None:
    """Where model `name`'s final weights are: the weights of plan [released] (commit, shipped
    name), extracted from git into <out>/released/, or its run once it reached total_steps
    (None before: forecasts use final weights only)."""
    if released := plan.get("released", {}).get(name):
        return released_model(*released, paths.out / "released")
    total = load_train_config(HERE / f"{name}.toml").optim.total_steps
    if (step := latest_progress(paths.run(name))[0]) < total:
        _say(f"{name}: training at step {step} of {total}; skipped until it is finished")
        return None
    return paths.run(name)


def stage_forecast(plan: dict, paths, models: list[str]) -> None:
    """Every model with the plan's members (deterministic: one), and each model of
    `symmetry_ensembles` again as <name>_sym: member m forecasts g_m·ω and maps back."""
    fc, truth = plan["forecast"], open_trajectories(paths.store("test"))
    symmetric = plan.get("symmetry_ensembles", [])
    for name, ref in ((n, r) for n in models if (r := model_ref(n, plan, paths)) is not None):
        model = load_trained(ref)
        single = model.config.diffusion.mode == "deterministic"
        runs = [(name, {"num_members": 1} if single else {})]
        runs += [(f"{name}_sym", {"symmetry_members": True})] if name in symmetric else []
        for stem, chosen in runs:
            forecast_with_progress(model, truth[VORTICITY], settings_from_plan(fc, **chosen),
                                   paths.forecasts / f"{stem}.zarr", desc=f"forecast {stem}",
                                   attrs=truth.attrs, extra_attrs={
                                       "forecast_checkpoint_step": model.step,
                                       "forecast_run_dir": str(ref)})


def stage_solvers(plan: dict, paths) -> None:
    fc = plan["forecast"]
    reference_forecast_stores(paths.store("test"), paths.forecasts, solver_sizes=plan["solvers"],
                              init_index=fc["init_index"], num_frames=fc["frames"], say=_say,
                              climate_path=paths.store("train"), num_members=fc["members"],
                              seed=fc["seed"])


def stage_evaluate(plan: dict, paths) -> None:
    paths.scores.mkdir(parents=True, exist_ok=True)
    for source in sorted(paths.forecasts.glob("*.zarr")):
        if not (out := paths.scores / f"{source.stem}.nc").exists():
            save_dataset(score_forecast_store(source, paths.store("test"), growth=True), out)
            _say(f"evaluate: scored {source.stem}")


def stage_rollouts(plan: dict, paths, models: list[str]) -> None:
    ro, fc = plan["rollout"], plan["forecast"]
    test = open_trajectories(paths.store("test")).isel({SAMPLE: slice(0, ro["samples"])})
    climate = open_trajectories(paths.store("train"))[VORTICITY].isel(time=slice(None, None, 5))
    for name in models:
        out = paths.scores / f"rollout_{name}.nc"
        if out.exists() or (ref := model_ref(name, plan, paths)) is None:
            continue
        _say(f"rollouts: {name}, {ro['samples']} × {ro['frames']} frames")
        settings = settings_from_plan(fc, num_frames=ro["frames"], num_members=ro["members"],
                                      batch_size=ro["samples"])
        save_dataset(rollout_statistics(load_trained(ref), test, climate, settings), out)
