"""The demo as library calls: test data → a model's ensemble forecast → solvers from the
same states → scores and figures, each stage resumable (finished stores are reused).

`rollflow demo` parses its options and calls `run_demo`; the default config ships inside
the package (`rollflow/configs/demo.toml`, `DEFAULT_CONFIG`), so an installed wheel runs it.
Time estimates come from the library's cost models (the generation's cost line,
`forecast.estimate_seconds`, `SOLVER_SECONDS_PER_TU_128` below).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from rollflow.specs import FlowSpec

__all__ = ["DemoConfig", "ForecastPlan", "SolverPlan", "load_demo_config", "DEFAULT_CONFIG",
           "run_demo", "side_by_side", "SOLVER_SECONDS_PER_TU_128"]

DEFAULT_CONFIG = resources.files("rollflow") / "configs" / "demo.toml"
SOLVER_SECONDS_PER_TU_128 = 0.3
"""Measured jax-cfd cost at 128², s per simulated t.u. per trajectory, one core of this
project's 2-core CPU (docs/performance.md); other grids scale with the number of points."""

Say = Callable[[str], None]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ForecastPlan:
    """Ensemble forecast of every test sample from its first usable initial state.

    `model` is a shipped model name (`rollflow models`) or a run directory; with `--train`
    the demo's own run is used instead. `bf16`: bf16 network calls where native.
    `symmetry_members`: member m forecasts g_m·ω of a flow symmetry and maps back.
    """

    model: str = "kf32-rolling"
    members: int = 4
    frames: int = 50
    seed: int = 0
    batch_size: int = 8
    bf16: bool = False
    symmetry_members: bool = False


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


def load_demo_config(path: Any = DEFAULT_CONFIG) -> DemoConfig:
    """Read the demo TOML (default: the packaged one); unknown tables or keys raise
    ConfigError."""
    from rollflow.configio import check_keys, from_mapping, load_toml
    from rollflow.errors import ConfigError
    from rollflow.training import train_config_from_mapping

    with resources.as_file(path) if not isinstance(path, (str, Path)) else _same(path) as file:
        data = load_toml(file)
    where = Path(str(path)).name
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


class _same:
    """`resources.as_file` for a plain path: the path itself."""

    def __init__(self, path: Any) -> None:
        self.path = Path(path)

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: Any) -> None:
        return None


def make_data(spec: FlowSpec, path: Path, what: str, say: Say) -> None:
    """Generate (or finish) the store of `spec` at `path`, with a time estimate first."""
    from rollflow.generate import generate_store
    from rollflow.store import completed_samples

    if path.exists() and bool(completed_samples(path).all()):
        say(f"{what}: {path} is complete")
        return
    say(f"{what}: {spec.num_samples} trajectories, DNS {spec.simulation_size}² → "
        f"{spec.output_size}², seed {spec.seed}")
    generate_store(spec, path, batch_size=spec.num_samples, command="rollflow demo")


def train_model(config: DemoConfig, out: Path, say: Say) -> Path:
    """--train: simulate the [truth] data and train the [train] model (resumable)."""
    from rollflow.errors import ConfigError
    from rollflow.training import run_training, train

    if config.truth is None or config.train is None:
        raise ConfigError("--train needs [truth] and [train] tables in the demo config")
    make_data(config.truth, out / "train.zarr", "training data", say)
    say(f"training ({config.train.diffusion.mode}, {config.train.optim.total_steps} steps; "
        f"the bar shows the remaining time)")
    run_training(train(config.train, out / "train.zarr", out / "run", resume=True))
    return out / "run"


def model_forecast(model_ref: Any, plan: ForecastPlan, out: Path, say: Say) -> Any:
    """The ensemble forecast Dataset of the test store (kept as out/forecast.zarr; reused)."""
    from rollflow.conventions import SAMPLE, VORTICITY, X
    from rollflow.errors import DataError
    from rollflow.forecast import (ForecastSettings, default_init_index, estimate_seconds,
                                   forecast, weights_fingerprint)
    from rollflow.store import open_trajectories, save_dataset
    from rollflow.training import load_trained

    model = load_trained(model_ref)
    path, wanted = out / "forecast.zarr", json.dumps(
        {**dataclasses.asdict(plan), "model": str(model_ref),
         "weights": weights_fingerprint(model.network)}, sort_keys=True)
    if path.exists():           # reused only for the same weights and forecast settings
        kept = open_trajectories(path, validate=False)
        if kept.attrs.get("forecast_demo_plan") == wanted:
            say(f"forecast: reusing {path}")
            return kept.load()
    truth = open_trajectories(out / "test.zarr")
    if model.grid_size and model.grid_size != truth.sizes[X]:
        raise DataError(f"the test data has a {truth.sizes[X]}² grid but {model_ref} was "
                        f"trained on {model.grid_size}²")
    settings = ForecastSettings(init_index=default_init_index(model), num_frames=plan.frames,
                                num_members=plan.members, seed=plan.seed,
                                batch_size=plan.batch_size,
                                precision="bfloat16" if plan.bf16 else "float32",
                                symmetry_members=plan.symmetry_members)
    samples = truth.sizes[SAMPLE]
    say(f"forecast: {samples} test trajectories × {plan.members} members × {plan.frames} "
        f"frames with {model_ref} ({model.config.diffusion.mode}, K = "
        f"{model.config.diffusion.steps_per_shift}; ≈ "
        f"{estimate_seconds(model, settings, samples):.0f} s)")
    result = forecast(model, truth[VORTICITY].load(), settings, attrs=truth.attrs, warn=say)
    result.attrs.update({"forecast_checkpoint_step": model.step,
                         "forecast_model": str(model_ref), "forecast_demo_plan": wanted})
    save_dataset(result, path, overwrite=True)
    return result


def solver_forecasts(config: DemoConfig, model_fc: Any, out: Path, say: Say) -> dict[str, Any]:
    """jax-cfd at each configured grid from the model forecast's (a Dataset) own initial
    states, same frame stride; Datasets by name."""
    from rollflow.baselines import solver_forecast
    from rollflow.conventions import LEAD_TIME, VORTICITY
    from rollflow.store import open_trajectories, save_dataset

    test = open_trajectories(out / "test.zarr")
    truth, spec = test[VORTICITY].load(), FlowSpec.from_attrs(test.attrs)
    init = int(model_fc.attrs.get("forecast_init_index", 1))
    stride = int(model_fc.attrs.get("forecast_frame_stride", 1))
    results = {}
    for size in config.solvers.resolutions:
        path = out / f"solver_{size}.zarr"
        if not path.exists():
            duration = float(model_fc[LEAD_TIME].values[-1]) * truth.sizes["sample"]
            estimate = SOLVER_SECONDS_PER_TU_128 * (size / 128) ** 2 * duration + 5.0
            say(f"solver {size}² from the same states (≈ {estimate:.0f} s)")
            save_dataset(solver_forecast(truth, spec, init_index=init,
                                         num_frames=model_fc.sizes["time"],
                                         simulation_size=size, frame_stride=stride,
                                         source_attrs=test.attrs), path)
        results[f"solver {size}²"] = open_trajectories(path, validate=False).load()
    return results


def scores_and_figures(runs: dict[str, Any], truth: Any, out: Path) -> tuple[dict, list[Path]]:
    """Headline skill of every forecast (Datasets by name) with the cost of all its members,
    and the figures (the model's and ρ vs solvers)."""
    import xarray as xr

    from rollflow.analysis import plot_correlation, save_figure
    from rollflow.analysis.cost import reading_costs
    from rollflow.conventions import VORTICITY
    from rollflow.analysis.figures import standard_figures
    from rollflow.analysis.skill import headline_skill

    scores = {}
    for name, fc in runs.items():
        scores[name] = headline_skill(fc[VORTICITY], truth, num_resamples=500).compute()
        scores[name].attrs.update(reading_costs(fc.attrs, fc.sizes["member"]))
    model_name = next(iter(runs))
    paths = standard_figures(scores[model_name], runs[model_name][VORTICITY], truth,
                             out / "figures")
    rho = xr.concat([s.mean_correlation for s in scores.values()], dim="model")
    rho = rho.assign_coords(model=list(scores))
    paths.append(save_figure(plot_correlation(rho, dim="lead_time", label_dim="model"),
                             out / "figures" / "correlation_vs_solver.png"))
    return scores, paths


def run_demo(config: DemoConfig, out: Path, *, train: bool = False,
             say: Say = lambda text: None) -> tuple[dict, list[Path]]:
    """Every stage in order; returns the scores (model first, then solvers) and figures."""
    from rollflow.conventions import VORTICITY
    from rollflow.store import open_trajectories

    out.mkdir(parents=True, exist_ok=True)
    model_ref: Any = train_model(config, out, say) if train else config.forecast.model
    make_data(config.test, out / "test.zarr", "test data", say)
    model_fc = model_forecast(model_ref, config.forecast, out, say)
    runs = {f"model ({Path(str(model_ref)).name})": model_fc,
            **solver_forecasts(config, model_fc, out, say)}
    say("scores and figures")
    return scores_and_figures(runs, open_trajectories(out / "test.zarr")[VORTICITY], out)


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
    if all("members" in s.attrs for s in scores.values()):
        rows.append(("members", [str(s.attrs["members"]) for s in scores.values()]))
        rows.append(("s per t.u. per trajectory, all members",
                     [f"{s.attrs['seconds_per_time_unit_all_members']:.3g}"
                      for s in scores.values()]))
    width = max(len(r[0]) for r in rows)
    cols = [max(len(r[1][j]) for r in rows) for j in range(len(names))]
    return "\n".join(f"{label:<{width}}  " + "  ".join(f"{v:>{c}}" for v, c in zip(values, cols))
                     for label, values in rows)
