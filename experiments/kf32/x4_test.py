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

    from rollflow.forecast import ForecastSettings, forecast_to_store
    from rollflow.baselines import climatology_forecasts, persistence_forecast, solver_forecast
    from rollflow.store import open_trajectories, read_spec, save_dataset
    from rollflow.training import load_trained

    torch.set_num_threads(2)
    test, fc = store / "test_segments.zarr", plan["test"]
    truth = open_trajectories(test)
    target = out / "forecasts"
    target.mkdir(parents=True, exist_ok=True)
    for name, (model_ref, members, precision) in forecasters(plan, out).items():
        path = target / f"{name}.zarr"
        done = path.with_suffix(".done")
        if done.exists():
            continue
        ref = str(out / model_ref) if (out / model_ref).exists() else model_ref
        model = load_trained(ref, ema_decay=_chosen(out, model_ref))
        settings = ForecastSettings(
            init_index=fc["init_index"], num_frames=fc["frames"] // model.config.data.frame_stride,
            num_members=members, seed=fc["seed"], batch_size=fc["batch_size"],
            precision=precision, symmetry_members=members > 1 and _symmetric(out, model_ref))
        say(f"forecast {name}: {members} members, {precision}")
        forecast_to_store(model, truth.vorticity, settings, path, attrs=truth.attrs,
                          extra_attrs={"forecast_run_dir": ref,
                                       "forecast_checkpoint_step": model.step},
                          overwrite=True)
        done.touch()
    spec = read_spec(test)
    values = truth.vorticity.load()
    path = target / "persistence.zarr"
    if not path.exists():
        result = persistence_forecast(values, init_index=fc["init_index"],
                                      num_frames=fc["frames"], save_interval=spec.save_interval,
                                      source_attrs=truth.attrs)
        save_dataset(result, path)
    if not (target / "climatology.zarr").exists():
        climate = open_trajectories(store / "train128.zarr").vorticity
        for name, result in zip(("climatology", "climatology_prob"), climatology_forecasts(
                values, climate, init_index=fc["init_index"], num_frames=fc["frames"],
                num_members=MEMBERS_FULL, seed=fc["seed"], source_attrs=truth.attrs)):
            save_dataset(result, target / f"{name}.zarr")
    for size in plan["solvers"]:
        path = target / f"solver_{size}.zarr"
        if not path.exists():
            say(f"forecast: jax-cfd {size}² from the same states")
            save_dataset(solver_forecast(values, spec, init_index=fc["init_index"],
                                         num_frames=fc["frames"], simulation_size=size,
                                         source_attrs=truth.attrs), path)


def evaluate_stage(plan: dict, out: Path, store: Path) -> None:
    from rollflow.analysis.skill import headline_skill
    from rollflow.store import open_trajectories, save_dataset

    truth = open_trajectories(store / "test_segments.zarr").vorticity.load()
    target = out / "scores"
    target.mkdir(parents=True, exist_ok=True)
    for source in sorted((out / "forecasts").glob("*.zarr")):
        ds = open_trajectories(source, validate=False)
        members = ds.sizes["member"]
        subsets = [m for m in (2, 4) if m < members] + [members]
        for m in subsets:
            name = source.stem if m == members else f"{source.stem}_m{m}"
            path = target / f"{name}.nc"
            if path.exists():
                continue
            fc = ds.vorticity.isel(member=slice(0, m)).load()
            skill = headline_skill(fc, truth).compute()
            skill.attrs.update({k: v for k, v in ds.attrs.items() if k.startswith("forecast_")})
            skill.attrs["forecast_num_members"] = m
            save_dataset(skill, path)
            say(f"evaluate {name}: T0.8 ensemble mean "
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
