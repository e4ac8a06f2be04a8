"""The KF32 benchmark, one resumable command: data → models → forecasts → solvers → scores.

    .venv/bin/python experiments/kf32/benchmark.py [--stages data train ...] [--models rolling]

Stages, in order (each skipped when its output exists; training resumes from the last
checkpoint, and Ctrl-C or SIGTERM keeps everything finished):

  data       train / validation / test stores (experiments/kf32/{train,validation,test}.toml)
  train      every model of benchmark.toml with the same backbone, data and steps; the
             rolling model stops at the learning-curve points and is scored on the
             validation store at each (learning_curve.json)
  forecast   test-set ensemble forecasts of every model (runs/kf32/forecasts/<model>.zarr)
  solvers    jax-cfd from the same 32² states at every solver grid (solver_<R>.zarr),
             and persistence (the initial state repeated)
  evaluate   headline skill of every forecast (runs/kf32/scores/<name>.nc + .json)
  rollouts   1 000-frame rollouts of every model: stability and climatology
  report     docs/results.md tables and docs/figures/kf32/*.png (experiments/kf32/report.py)

All logic is in rollflow; this file wires benchmark.toml to it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STAGES = ("data", "train", "forecast", "solvers", "evaluate", "rollouts", "report")


def _say(text: str) -> None:
    print(f"[benchmark] {text}", file=sys.stderr, flush=True)


class Paths:
    """Where every artifact lives (under --out, default runs/kf32; data under data/kf32)."""

    def __init__(self, out: Path, data: Path) -> None:
        self.out, self.data = out, data
        self.forecasts, self.scores = out / "forecasts", out / "scores"

    def store(self, split: str) -> Path:
        return self.data / f"{split}.zarr"

    def run(self, model: str) -> Path:
        return self.out / "runs" / model


def stage_data(plan: dict, paths: Paths) -> None:
    from rollflow.generate import generate_store, load_simulation_config

    for split, name in plan["data"].items():
        sim = load_simulation_config(HERE / name)
        _say(f"data: {split} — {sim.flow.num_samples} trajectories × {sim.flow.num_frames} "
             f"frames, DNS {sim.flow.simulation_size}² → {sim.flow.output_size}²")
        generate_store(sim.flow, paths.store(split), batch_size=sim.generation.batch_size,
                       command=f"experiments/kf32/benchmark.py ({split})")


def _validation_skill(run_dir: Path, paths: Paths, plan: dict) -> dict:
    from rollflow.analysis.skill import headline_skill
    from rollflow.conventions import VORTICITY
    from rollflow.forecast import ForecastSettings, forecast
    from rollflow.store import open_trajectories
    from rollflow.training import load_trained

    model = load_trained(run_dir)
    truth = open_trajectories(paths.store("validation"))
    fc = plan["forecast"]
    settings = ForecastSettings(init_index=fc["init_index"], num_frames=fc["frames"],
                                num_members=4, seed=fc["seed"], batch_size=fc["batch_size"])
    result = forecast(model, truth[VORTICITY].load(), settings, attrs=truth.attrs)
    skill = headline_skill(result[VORTICITY], truth[VORTICITY], num_resamples=200).compute()
    return {"step": model.step,
            "T_mean": dict(zip(map(str, skill.threshold.values.tolist()),
                               skill.decorrelation_mean_estimate.values.tolist()))}


def _checkpoint_info(run_dir: Path) -> dict:
    from rollflow.training.checkpoint import latest_checkpoint, load_checkpoint

    found = latest_checkpoint(run_dir) if run_dir.exists() else None
    return load_checkpoint(found).info if found else {}


def _latest_step(run_dir: Path) -> int:
    from rollflow.training.checkpoint import latest_checkpoint, load_checkpoint

    found = latest_checkpoint(run_dir) if run_dir.exists() else None
    return load_checkpoint(found).step if found else 0


def _finished(name: str, paths: Paths) -> bool:
    """True once the model's run reached its config's total_steps (forecasts and rollouts
    of a model are made once, from its final checkpoint only)."""
    from rollflow.training import load_train_config

    total = load_train_config(HERE / f"{name}.toml").optim.total_steps
    done = _latest_step(paths.run(name)) >= total
    if not done:
        _say(f"{name}: training at step {_latest_step(paths.run(name))} of {total}; "
             "skipped until it is finished")
    return done


def stage_train(plan: dict, paths: Paths, models: list[str]) -> None:
    from rollflow.training import run_training
    from rollflow.training import load_train_config, train

    for name in models:
        config = load_train_config(HERE / f"{name}.toml")
        total, run_dir = config.optim.total_steps, paths.run(name)
        points = [s for s in plan.get("learning_curve", {}).get("steps", []) if s < total]
        points = (points if name == "rolling" else []) + [total]
        curve_path = paths.out / f"learning_curve_{name}.json"
        curve = json.loads(curve_path.read_text()) if curve_path.exists() else []
        for stop in points:
            if _latest_step(run_dir) < stop:
                _say(f"train: {name} up to step {stop} of {total}")
                run_training(train(config, paths.store("train"), run_dir, resume=True,
                                   stop_at=stop))
            scored = any(entry["step"] == stop for entry in curve)
            if name == "rolling" and _latest_step(run_dir) == stop and not scored:
                info = _checkpoint_info(run_dir)
                entry = {**_validation_skill(run_dir, paths, plan),
                         "cpu_hours": info.get("cpu_seconds", 0.0) / 3600.0,
                         "samples_seen": info.get("samples_seen")}
                curve.append(entry)
                curve_path.write_text(json.dumps(curve, indent=1))
                _say(f"learning curve: step {stop}, {entry['cpu_hours']:.2f} CPU-h, "
                     f"T0.8 {entry['T_mean']['0.8']:.2f} t.u. (validation)")


def stage_forecast(plan: dict, paths: Paths, models: list[str]) -> None:
    from tqdm import tqdm

    from rollflow.conventions import SAMPLE, VORTICITY
    from rollflow.forecast import ForecastSettings, forecast
    from rollflow.store import open_trajectories, save_dataset
    from rollflow.training import load_trained

    fc = plan["forecast"]
    truth = open_trajectories(paths.store("test"))
    for name in models:
        out = paths.forecasts / f"{name}.zarr"
        if out.exists() or not _finished(name, paths):
            continue
        model = load_trained(paths.run(name))
        members = 1 if model.config.diffusion.mode == "deterministic" else fc["members"]
        settings = ForecastSettings(init_index=fc["init_index"], num_frames=fc["frames"],
                                    num_members=members, seed=fc["seed"],
                                    batch_size=fc["batch_size"])
        rows = -(-truth.sizes[SAMPLE] // settings.batch_size) * settings.num_frames
        with tqdm(total=rows, unit="frame", desc=f"forecast {name}", file=sys.stderr) as bar:
            result = forecast(model, truth[VORTICITY].load(), settings, attrs=truth.attrs,
                              progress=bar.update)
        result.attrs.update({"forecast_checkpoint_step": model.step,
                             "forecast_run_dir": str(paths.run(name))})
        save_dataset(result, out)


def stage_solvers(plan: dict, paths: Paths) -> None:
    from rollflow.baselines import persistence_forecast, solver_forecast
    from rollflow.conventions import VORTICITY
    from rollflow.store import open_trajectories, read_spec, save_dataset

    fc = plan["forecast"]
    out = paths.forecasts / "persistence.zarr"
    if not out.exists():
        truth = open_trajectories(paths.store("test"))[VORTICITY].load()
        spec = read_spec(paths.store("test"))
        result = persistence_forecast(truth, init_index=fc["init_index"],
                                      num_frames=fc["frames"], save_interval=spec.save_interval)
        result.attrs.update(spec.to_attrs())
        save_dataset(result, out)
    for size in plan["solvers"]:
        out = paths.forecasts / f"solver_{size}.zarr"
        if out.exists():
            continue
        _say(f"solvers: jax-cfd {size}² from the test states")
        truth = open_trajectories(paths.store("test"))
        save_dataset(solver_forecast(truth[VORTICITY].load(), read_spec(paths.store("test")),
                                     init_index=fc["init_index"], num_frames=fc["frames"],
                                     simulation_size=size, source_attrs=truth.attrs), out)


def forecast_names(plan: dict) -> list[str]:
    return list(plan["models"]) + ["persistence"] + [f"solver_{s}" for s in plan["solvers"]]


def stage_evaluate(plan: dict, paths: Paths) -> None:
    from rollflow.analysis import separation_growth
    from rollflow.analysis.skill import headline_skill
    from rollflow.conventions import LEAD_TIME, MEMBER, TIME, VORTICITY
    from rollflow.store import open_trajectories, save_dataset

    truth = open_trajectories(paths.store("test"))[VORTICITY]
    paths.scores.mkdir(parents=True, exist_ok=True)
    for name in forecast_names(plan):
        out = paths.scores / f"{name}.nc"
        source = paths.forecasts / f"{name}.zarr"
        if out.exists() or not source.exists():
            continue
        ds = open_trajectories(source, validate=False)
        fc = ds[VORTICITY].load()
        skill = headline_skill(fc, truth).compute()
        if fc.sizes[MEMBER] >= 2:
            growth = separation_growth(fc.swap_dims({TIME: LEAD_TIME}), dim=LEAD_TIME,
                                       upper_fraction=0.5)
            skill["ensemble_growth_rate"] = growth["growth_rate"].mean()
        skill.attrs.update({k: v for k, v in ds.attrs.items() if k.startswith("forecast_")})
        save_dataset(skill, out)
        _say(f"evaluate: {name}: T0.8 (ensemble mean) "
             f"{float(skill.decorrelation_mean_estimate.sel(threshold=0.8)):.2f} t.u.")


def stage_rollouts(plan: dict, paths: Paths, models: list[str]) -> None:
    from rollflow.analysis.stability import rollout_stability
    from rollflow.conventions import SAMPLE, VORTICITY
    from rollflow.forecast import ForecastSettings, forecast
    from rollflow.store import open_trajectories, save_dataset
    from rollflow.training import load_trained

    ro, fc = plan["rollout"], plan["forecast"]
    test = open_trajectories(paths.store("test"))
    climate = open_trajectories(paths.store("train"))[VORTICITY]
    for name in models:
        out = paths.scores / f"rollout_{name}.nc"
        if out.exists() or not _finished(name, paths):
            continue
        _say(f"rollouts: {name}, {ro['samples']} × {ro['frames']} frames")
        model = load_trained(paths.run(name))
        settings = ForecastSettings(init_index=fc["init_index"], num_frames=ro["frames"],
                                    num_members=ro["members"], seed=fc["seed"],
                                    batch_size=ro["samples"])
        truth = test[VORTICITY].isel({SAMPLE: slice(0, ro["samples"])}).load()
        result = forecast(model, truth, settings, attrs=test.attrs)
        stats = rollout_stability(result[VORTICITY], climate.isel(time=slice(None, None, 5)))
        save_dataset(stats.drop_vars("kinetic_energy").assign(
            kinetic_energy=stats.kinetic_energy.mean(SAMPLE)), out)


def main(argv: list[str] | None = None) -> int:
    from rollflow.configio import load_toml

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", type=Path, default=HERE / "benchmark.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32")
    parser.add_argument("--data", type=Path, default=ROOT / "data/kf32")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--models", nargs="+", help="only these models (default: all)")
    args = parser.parse_args(argv)
    plan = load_toml(args.plan)
    paths = Paths(args.out, args.data)
    models = args.models or list(plan["models"])
    for stage in STAGES:
        if stage not in args.stages:
            continue
        _say(f"stage {stage}")
        if stage == "data":
            stage_data(plan, paths)
        elif stage == "train":
            stage_train(plan, paths, models)
        elif stage == "forecast":
            stage_forecast(plan, paths, models)
        elif stage == "solvers":
            stage_solvers(plan, paths)
        elif stage == "evaluate":
            stage_evaluate(plan, paths)
        elif stage == "rollouts":
            stage_rollouts(plan, paths, models)
        elif stage == "report":
            subprocess.run([sys.executable, str(HERE / "report.py"), "--out", str(args.out)],
                           check=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _say("interrupted; finished work is kept, run the same command to resume")
        sys.exit(130)
