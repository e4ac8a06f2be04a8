"""`rollflow demo [--out DIR] [--train]`: forecast with the shipped model, judged against solvers.

Stages (each resumes if interrupted; finished stores are reused): test trajectories
(`rollflow.generate`) → an ensemble forecast with the shipped model (`rollflow.forecast`,
kept as DIR/forecast.zarr so `rollflow evaluate`/`plot` can be rerun) → the jax-cfd solver
at 32² and 64² from the same states (`rollflow.baselines`, DIR/solver_<R>.zarr) → scores
and figures (`rollflow.analysis`). `--train` first simulates training data and trains a
model from the config's [train] section (DIR/run), and forecasts with it instead. Before
each long stage the demo prints a time estimate. The config is `experiments/demo.toml`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from rollflow.specs import FlowSpec

__all__ = ["add_parser", "run", "DemoConfig", "load_demo_config"]

ORDER = 5
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "experiments" / "demo.toml"
SOLVER_SECONDS_PER_TU_128 = 0.3
"""Measured jax-cfd cost at 128², s per simulated t.u. per trajectory, one core of this
project's 2-core CPU (docs/performance.md); other grids scale with the number of points."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ForecastPlan:
    """Ensemble forecast of every test sample from its first usable initial state.

    `model` is a shipped model name (`rollflow models`) or a run directory; with `--train`
    the demo's own run is used instead.
    """

    model: str = "kf32-rolling"
    members: int = 4
    frames: int = 50
    seed: int = 0
    batch_size: int = 8


@dataclasses.dataclass(frozen=True, kw_only=True)
class SolverPlan:
    """Solver grids run from the same initial states as the model (each ≥ the data grid)."""

    resolutions: tuple[int, ...] = (32, 64)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DemoConfig:
    test: FlowSpec
    forecast: ForecastPlan = dataclasses.field(default_factory=ForecastPlan)
    solvers: SolverPlan = dataclasses.field(default_factory=SolverPlan)
    truth: FlowSpec | None = None  # training data, used with --train
    train: Any = None              # TrainConfig, built by rollflow.training's own loader


def load_demo_config(path: str | Path) -> DemoConfig:
    """Read the demo TOML; unknown tables or keys raise ConfigError."""
    from rollflow.configio import check_keys, from_mapping, load_toml
    from rollflow.errors import ConfigError
    from rollflow.training import train_config_from_mapping

    data = load_toml(path)
    where = Path(path).name
    check_keys(data, ("test", "forecast", "solvers", "truth", "train"), where)
    if "test" not in data:
        raise ConfigError(f"{where}: missing [test] table (the test trajectories' flow spec)")
    truth = data.get("truth")
    return DemoConfig(
        test=from_mapping(FlowSpec, data["test"], where=f"{where} [test]"),
        forecast=from_mapping(ForecastPlan, data.get("forecast", {}), where=f"{where} [forecast]"),
        solvers=from_mapping(SolverPlan, data.get("solvers", {}), where=f"{where} [solvers]"),
        truth=None if truth is None else from_mapping(FlowSpec, truth, where=f"{where} [truth]"),
        train=(train_config_from_mapping(data["train"], where=f"{where} [train]")
               if "train" in data else None))


def add_parser(subparsers) -> None:
    """Register the `demo` sub-command."""
    parser = subparsers.add_parser(
        "demo", help="forecast with the shipped model and judge it against 32²/64² solvers",
        description="Simulate test trajectories, forecast them with the shipped rolling "
                    "model, run solvers from the same states and print the scores side by side.")
    parser.add_argument("--out", default="outputs/demo", metavar="DIR",
                        help="output directory (default outputs/demo); re-runs resume")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), metavar="CONFIG.toml",
                        help="demo config (default experiments/demo.toml)")
    parser.add_argument("--train", action="store_true",
                        help="simulate training data and train the config's [train] model "
                             "first (tens of minutes to hours on a CPU), then use it")
    parser.set_defaults(run=run)


def _say(text: str) -> None:
    print(f"[demo] {text}", file=sys.stderr, flush=True)


def _solver_estimate(spec: FlowSpec) -> float:
    """Seconds to simulate `spec` (warm-up included) from SOLVER_SECONDS_PER_TU_128."""
    per_tu = SOLVER_SECONDS_PER_TU_128 * (spec.simulation_size / 128) ** 2
    duration = spec.warmup_time + (spec.num_frames - 1) * spec.save_interval
    return per_tu * duration * spec.num_samples + 10.0   # + compilation


def _data(spec: FlowSpec, path: Path, what: str) -> None:
    from rollflow.generate import generate_store
    from rollflow.store import completed_samples

    if path.exists() and bool(completed_samples(path).all()):
        _say(f"{what}: {path} is complete")
        return
    _say(f"{what}: {spec.num_samples} trajectories, DNS {spec.simulation_size}² → "
         f"{spec.output_size}², seed {spec.seed} (≈ {_solver_estimate(spec):.0f} s)")
    generate_store(spec, path, batch_size=spec.num_samples, command="rollflow demo")


def _train(config: DemoConfig, out: Path) -> Path:
    from rollflow.training import run_training
    from rollflow.errors import ConfigError
    from rollflow.training import train

    if config.truth is None or config.train is None:
        raise ConfigError("--train needs [truth] and [train] tables in the demo config")
    _data(config.truth, out / "train.zarr", "training data")
    _say(f"training ({config.train.diffusion.mode}, {config.train.optim.total_steps} steps; "
         f"the bar shows the remaining time)")
    run_training(train(config.train, out / "train.zarr", out / "run", resume=True))
    return out / "run"


def _calls_estimate(model: Any, plan: ForecastPlan, num_samples: int) -> float:
    """Seconds for the forecast: one timed network call on a full batch × the calls."""
    import torch

    cfg = model.config.diffusion
    rows = min(plan.batch_size, num_samples) * plan.members
    frames = model.config.num_frames
    x = torch.zeros(rows, frames, model.grid_size, model.grid_size)
    lam = torch.zeros(rows, frames)
    flags = torch.zeros(rows, frames, dtype=torch.bool)
    with torch.no_grad():
        model.network(x, lam, flags)                      # warm-up
        start = time.perf_counter()
        model.network(x, lam, flags)
        per_call = time.perf_counter() - start
    calls_per_frame = {"rolling": cfg.steps_per_shift, "standard":
                       cfg.num_standard_steps / cfg.window_size,
                       "deterministic": 1 / cfg.window_size}[cfg.mode]
    batches = -(-num_samples // plan.batch_size)
    return per_call * calls_per_frame * plan.frames * batches


def _forecast(model_ref: Any, plan: ForecastPlan, out: Path) -> Any:
    from rollflow.cli._shared import check_model_grid, default_init_index
    from rollflow.conventions import SAMPLE, VORTICITY
    from rollflow.forecast import ForecastSettings, forecast
    from rollflow.store import open_trajectories, save_dataset
    from rollflow.training import load_trained

    path = out / "forecast.zarr"
    if path.exists():
        kept = open_trajectories(path, validate=False)
        if kept.attrs.get("forecast_model") == str(model_ref):
            _say(f"forecast: reusing {path}")
            return kept[VORTICITY].load()
    model = load_trained(model_ref)
    truth = open_trajectories(out / "test.zarr")
    check_model_grid(model, truth, str(out / "test.zarr"))
    samples = truth.sizes[SAMPLE]
    _say(f"forecast: {samples} test trajectories × {plan.members} members × {plan.frames} "
         f"frames with {model_ref} ({model.config.diffusion.mode}, K = "
         f"{model.config.diffusion.steps_per_shift}; ≈ "
         f"{_calls_estimate(model, plan, samples):.0f} s)")
    settings = ForecastSettings(init_index=default_init_index(model), num_frames=plan.frames,
                                num_members=plan.members, seed=plan.seed,
                                batch_size=plan.batch_size)
    result = forecast(model, truth[VORTICITY].load(), settings, attrs=truth.attrs)
    result.attrs.update({"forecast_checkpoint_step": model.step,
                         "forecast_model": str(model_ref)})
    save_dataset(result, path, overwrite=True)
    return result[VORTICITY]


def _solvers(config: DemoConfig, forecast_da: Any, out: Path) -> dict[str, Any]:
    from rollflow.conventions import LEAD_TIME, VORTICITY
    from rollflow.baselines import solver_forecast
    from rollflow.store import open_trajectories, read_spec, save_dataset

    truth = open_trajectories(out / "test.zarr")[VORTICITY].load()
    spec = read_spec(out / "test.zarr")
    init = int(forecast_da.attrs.get("forecast_init_index", 1))
    stride = int(forecast_da.attrs.get("forecast_frame_stride", 1))
    frames = forecast_da.sizes["time"]
    results = {}
    for size in config.solvers.resolutions:
        path = out / f"solver_{size}.zarr"
        if not path.exists():
            duration = float(forecast_da[LEAD_TIME].values[-1]) * truth.sizes["sample"]
            estimate = SOLVER_SECONDS_PER_TU_128 * (size / 128) ** 2 * duration + 5.0
            _say(f"solver {size}² from the same states (≈ {estimate:.0f} s)")
            save_dataset(solver_forecast(truth, spec, init_index=init, num_frames=frames,
                                         simulation_size=size, frame_stride=stride,
                                         source_attrs=spec.to_attrs()), path)
        results[f"solver {size}²"] = open_trajectories(path, validate=False)[VORTICITY].load()
    return results


def _report(runs: dict[str, Any], truth: Any, out: Path) -> None:
    import xarray as xr

    from rollflow.analysis import plot_correlation, save_figure
    from rollflow.analysis.skill import headline_skill
    from rollflow.cli.evaluate import write_figures

    scores = {name: headline_skill(fc, truth, num_resamples=500).compute()
              for name, fc in runs.items()}
    print(side_by_side(scores))
    model_name = next(iter(runs))
    paths = write_figures(scores[model_name], runs[model_name], truth, out / "figures")
    rho = xr.concat([s.mean_correlation for s in scores.values()], dim="model")
    rho = rho.assign_coords(model=list(scores))
    paths.append(save_figure(plot_correlation(rho, dim="lead_time", label_dim="model"),
                             out / "figures" / "correlation_vs_solver.png"))
    print()
    for path in paths:
        print(f"wrote {path}")
    print(f"forecast kept in {out / 'forecast.zarr'}: rerun `rollflow evaluate "
          f"{out / 'forecast.zarr'} --truth {out / 'test.zarr'} --figures DIR`")


def side_by_side(scores: dict[str, Any]) -> str:
    """A text table of the headline numbers, one column per forecast."""
    names = list(scores)
    rows = [("", names)]
    first = scores[names[0]]
    for threshold in first.threshold.values:
        rows.append((f"T{threshold:g} ensemble mean (t.u.) [95% CI]",
                     [f"{float(s.decorrelation_mean_estimate.sel(threshold=threshold)):.2f} "
                      f"[{float(s.decorrelation_mean_lower.sel(threshold=threshold)):.2f}, "
                      f"{float(s.decorrelation_mean_upper.sel(threshold=threshold)):.2f}]"
                      for s in scores.values()]))
    for i, lead in enumerate(first.lead.values):
        rows.append((f"ρ at {lead:g} t.u.",
                     [f"{float(s.correlation_at_leads.isel(lead=i)):.3f}"
                      for s in scores.values()]))
    rows.append(("log-spectral error", [f"{float(s.log_spectral_error):.3f}"
                                        for s in scores.values()]))
    width = max(len(r[0]) for r in rows)
    cols = [max(len(r[1][j]) for r in rows) for j in range(len(names))]
    return "\n".join(f"{label:<{width}}  " + "  ".join(f"{v:>{c}}" for v, c in zip(values, cols))
                     for label, values in rows)


def run(args: argparse.Namespace) -> int:
    from rollflow.conventions import VORTICITY
    from rollflow.store import open_trajectories

    config = load_demo_config(args.config)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_ref: Any = config.forecast.model
    if args.train:
        model_ref = _train(config, out)
    _data(config.test, out / "test.zarr", "test data")
    model_fc = _forecast(model_ref, config.forecast, out)
    runs = {f"model ({Path(str(model_ref)).name})": model_fc, **_solvers(config, model_fc, out)}
    truth = open_trajectories(out / "test.zarr")[VORTICITY]
    _say("scores and figures")
    _report(runs, truth, out)
    return 0
