"""`rollflow demo [--out DIR]`: the whole pipeline at CPU scale, resumable stage by stage.

Stages: training data and test data (`rollflow.generate`), a rolling-diffusion model
(`rollflow.training`), ensemble forecasts of the test trajectories (`rollflow.forecast`),
a solver at the data resolution from the same initial states (`rollflow.reference`),
scores and figures (`rollflow.analysis`). The config is `experiments/demo.toml`.
Re-running the command skips finished stages; Ctrl-C keeps what is done.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from rollflow.specs import FlowSpec

__all__ = ["add_parser", "run", "DemoConfig", "load_demo_config"]

ORDER = 5
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "experiments" / "demo.toml"


@dataclasses.dataclass(frozen=True, kw_only=True)
class TestData:
    """Held-out trajectories: same physics as [truth], other seed."""

    num_samples: int = 2
    num_frames: int = 31
    seed: int = 1000


@dataclasses.dataclass(frozen=True, kw_only=True)
class ForecastPlan:
    """Ensemble forecast of every test sample from its first usable initial state."""

    members: int = 4
    frames: int = 25
    seed: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class DemoConfig:
    truth: FlowSpec
    test: TestData = dataclasses.field(default_factory=TestData)
    forecast: ForecastPlan = dataclasses.field(default_factory=ForecastPlan)
    train: Any = None  # TrainConfig, built by rollflow.training's own loader


def load_demo_config(path: str | Path) -> DemoConfig:
    """Read the demo TOML; unknown tables or keys raise ConfigError."""
    from rollflow.configio import check_keys, from_mapping, load_toml
    from rollflow.training import train_config_from_mapping

    data = load_toml(path)
    check_keys(data, ("truth", "test", "forecast", "train"), Path(path).name)
    where = Path(path).name
    return DemoConfig(
        truth=from_mapping(FlowSpec, data.get("truth", {}), where=f"{where} [truth]"),
        test=from_mapping(TestData, data.get("test", {}), where=f"{where} [test]"),
        forecast=from_mapping(ForecastPlan, data.get("forecast", {}), where=f"{where} [forecast]"),
        train=train_config_from_mapping(data.get("train", {}), where=f"{where} [train]"))


def add_parser(subparsers) -> None:
    """Register the `demo` sub-command."""
    parser = subparsers.add_parser(
        "demo", help="run the whole pipeline at CPU scale (data → model → forecast → scores)",
        description="Simulate, train, forecast and evaluate a small rolling-diffusion model.")
    parser.add_argument("--out", default="outputs/demo", metavar="DIR",
                        help="output directory (default outputs/demo); re-runs resume")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), metavar="CONFIG.toml",
                        help="demo config (default experiments/demo.toml)")
    parser.set_defaults(run=run)


def _say(text: str) -> None:
    print(f"[demo] {text}", file=sys.stderr, flush=True)


def _train(config: DemoConfig, data: Path, run_dir: Path) -> None:
    from rollflow.cli.train import run_training
    from rollflow.training import train

    run_training(train(config.train, data, run_dir, resume=True))


def _forecasts(config: DemoConfig, out: Path) -> dict[str, Any]:
    """Model ensemble and the data-resolution solver from the same initial states."""
    from rollflow.cli._shared import default_init_index
    from rollflow.conventions import VORTICITY
    from rollflow.forecast import ForecastSettings, forecast
    from rollflow.reference import solver_forecast
    from rollflow.store import open_trajectories, read_spec
    from rollflow.training import load_trained

    model = load_trained(out / "run")
    truth = open_trajectories(out / "test.zarr")[VORTICITY].load()
    init = default_init_index(model)
    plan = config.forecast
    settings = ForecastSettings(init_index=init, num_frames=plan.frames,
                                num_members=plan.members, seed=plan.seed)
    _say(f"forecasting {truth.sizes['sample']} test trajectories × {plan.members} members "
         f"× {plan.frames} frames (rolling sampler, K = {model.config.diffusion.steps_per_shift})")
    spec = read_spec(out / "test.zarr")
    model_fc = forecast(model, truth, settings, attrs=spec.to_attrs())[VORTICITY]
    solver_fc = solver_forecast(truth, spec, init_index=init, num_frames=plan.frames,
                                simulation_size=spec.output_size,
                                frame_stride=model.config.data.frame_stride)[VORTICITY]
    return {"truth": truth, "model": model_fc, "solver": solver_fc}


def _report(runs: dict[str, Any], out: Path) -> None:
    from rollflow.analysis import plot_correlation, save_figure
    from rollflow.analysis.skill import headline_skill
    from rollflow.cli.evaluate import summary_lines, write_figures

    truth = runs["truth"]
    scores = {name: headline_skill(runs[name], truth, num_resamples=200).compute()
              for name in ("model", "solver")}
    for name, label in (("model", "rolling diffusion (demo model)"),
                        ("solver", f"solver at {truth.sizes['x']}² from the same state")):
        print(f"\n== {label}")
        for line in summary_lines(scores[name]):
            print("  " + line)
    figures = out / "figures"
    paths = write_figures(scores["model"], runs["model"], truth, figures)
    import xarray as xr

    rho = xr.concat([scores[n].ensemble_mean_correlation.swap_dims(time="lead_time")
                     for n in ("model", "solver")], dim="model").assign_coords(
        model=["rolling diffusion (ensemble mean)", f"solver {truth.sizes['x']}²"])
    paths.append(save_figure(plot_correlation(rho.mean("sample"), dim="lead_time",
                                              label_dim="model"),
                             figures / "correlation_vs_solver.png"))
    print()
    for path in paths:
        print(f"wrote {path}")


def run(args: argparse.Namespace) -> int:
    from rollflow.generate import generate_store

    config = load_demo_config(args.config)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    test_spec = config.truth.replace(num_samples=config.test.num_samples,
                                     num_frames=config.test.num_frames, seed=config.test.seed)
    _say(f"1/4 training data: {config.truth.num_samples} trajectories, DNS "
         f"{config.truth.simulation_size}² → {config.truth.output_size}²")
    generate_store(config.truth, out / "train.zarr", batch_size=config.truth.num_samples,
                   command="rollflow demo")
    _say(f"    test data: {test_spec.num_samples} trajectories (seed {test_spec.seed})")
    generate_store(test_spec, out / "test.zarr", batch_size=test_spec.num_samples,
                   command="rollflow demo")
    _say(f"2/4 training ({config.train.diffusion.mode}, {config.train.optim.total_steps} steps)")
    _train(config, out / "train.zarr", out / "run")
    _say("3/4 forecasts")
    runs = _forecasts(config, out)
    _say("4/4 scores and figures")
    _report(runs, out)
    return 0
