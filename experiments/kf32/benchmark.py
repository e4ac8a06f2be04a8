"""The KF32 benchmark, one resumable command: data → models → forecasts → solvers → scores.

    .venv/bin/python experiments/kf32/benchmark.py [--stages data train ...] [--models rolling]

Stages (each skips what it finished; training resumes; Ctrl-C keeps finished work): data ·
train (rolling: scored on validation at the learning-curve steps) · forecast · solvers
(jax-cfd ladder, persistence, climatologies) · evaluate · rollouts (1 000 frames) ·
report (report.py: `rollflow report`'s page from the score stores). Models of plan
[released] are not trained: the weights they shipped at a commit stand in (benchmark_test.py).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from benchmark_test import stage_evaluate, stage_forecast, stage_rollouts, stage_solvers
from rollflow.analysis.skill import skill_record
from rollflow.configio import load_toml
from rollflow.forecast import scored_forecast, settings_from_plan
from rollflow.generate import generate_store, load_simulation_config
from rollflow.stages import announcer, run_stages
from rollflow.store import open_trajectories
from rollflow.training import learning_curve, load_train_config, load_trained, train_until

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STAGES = ("data", "train", "forecast", "solvers", "evaluate", "rollouts", "report")
_say = announcer("benchmark")


class Paths:
    """Where every artifact lives (under --out, default runs/kf32; data under data/kf32)."""

    def __init__(self, out: Path, data: Path) -> None:
        self.out, self.data, self.forecasts, self.scores = out, data, out / "forecasts", out / "scores"

    def store(self, split: str) -> Path:
        return self.data / f"{split}.zarr"

    def run(self, model: str) -> Path:
        return self.out / "runs" / model


def stage_data(plan: dict, paths: Paths) -> None:
    for split, name in plan["data"].items():
        sim = load_simulation_config(HERE / name)
        _say(f"data: {split} ({name})")
        generate_store(sim.flow, paths.store(split), batch_size=sim.generation.batch_size,
                       command=f"experiments/kf32/benchmark.py ({split})")


def _validation_skill(run_dir: Path, paths: Paths, plan: dict) -> dict:
    model, settings = load_trained(run_dir), settings_from_plan(plan["forecast"], num_members=4)
    _, skill = scored_forecast(model, open_trajectories(paths.store("validation")), settings,
                               num_resamples=200)
    return {"step": model.step, "T_mean": skill_record(skill)["T_mean"]}


def stage_train(plan: dict, paths: Paths, models: list[str]) -> None:
    for name in (m for m in models if m not in plan.get("released", {})):
        config = load_train_config(HERE / f"{name}.toml")
        total = config.optim.total_steps
        points = [s for s in plan.get("learning_curve", {}).get("steps", []) if s < total]
        _say(f"train: {name} to step {total}")
        if name == "rolling":       # scored on the validation store at each point
            learning_curve(config, paths.store("train"), paths.run(name), points + [total],
                           lambda run_dir: _validation_skill(run_dir, paths, plan),
                           paths.out / f"learning_curve_{name}.json",
                           say=lambda e: _say(f"step {e['step']}: validation T0.8 "
                                              f"{e['T_mean']['0.8']:.2f} t.u."))
        else:
            train_until(config, paths.store("train"), paths.run(name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", type=Path, default=HERE / "benchmark.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32")
    parser.add_argument("--data", type=Path, default=ROOT / "data/kf32")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--models", nargs="+", help="only these models (default: all)")
    args = parser.parse_args(argv)
    plan, paths = load_toml(args.plan), Paths(args.out, args.data)
    models = args.models or list(plan["models"])
    return run_stages({
        "data": lambda: stage_data(plan, paths), "train": lambda: stage_train(plan, paths, models),
        "forecast": lambda: stage_forecast(plan, paths, models),
        "solvers": lambda: stage_solvers(plan, paths), "evaluate": lambda: stage_evaluate(plan, paths),
        "rollouts": lambda: stage_rollouts(plan, paths, models),
        "report": lambda: subprocess.run([sys.executable, str(HERE / "report.py"), "--out",
                                          str(args.out)], check=True)}, args.stages, _say)


if __name__ == "__main__":
    sys.exit(main())
