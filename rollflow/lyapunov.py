"""The Lyapunov experiment: leading exponent from perturbed solver twins (METHOD.md §5).

For each of `num_pairs` random initial states the solver runs the warm-up, the state is
copied and the copy perturbed by a smooth random field of relative L2 amplitude
`relative_amplitude`, and both twins are integrated for `duration` t.u. at the full
simulation resolution. `rollflow.analysis.separation_growth` fits the exponential growth
of ‖δω‖/‖ω‖ over its automatically found linear regime (`lyapunov_experiment`). The
`rollflow lyapunov` command parses, calls this and prints.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rollflow.errors import ConfigError
from rollflow.provenance import git_commit, machine_description

__all__ = ["LyapunovConfig", "load_config", "smooth_perturbation", "twin_runs",
           "as_dataarray", "lyapunov_experiment", "lyapunov_summary", "write_outputs"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class LyapunovConfig:
    """The `[lyapunov]` table.

    Attributes:
        relative_amplitude: ‖δω‖/‖ω‖ of the initial perturbation (e.g. 1e-5 in float32).
        num_pairs: twin pairs, each from its own random initial state (sample 0…P−1).
        duration: t.u. integrated after the perturbation (a multiple of save_interval);
            long enough to reach saturation (≈ 11.5/λ₁ + a few t.u. for 1e-5).
        perturbation_max_wavenumber: perturb only modes 1 ≤ |k| ≤ this (0 → N/3).
        perturbation_seed: seed of the numpy Generator drawing the perturbations.
        output: folder for separation.csv / .png / summary.json ("" → none).
    """

    relative_amplitude: float = 1e-5
    num_pairs: int = 4
    duration: float = 30.0
    perturbation_max_wavenumber: int = 0
    perturbation_seed: int = 0
    output: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.relative_amplitude < 1:
            raise ConfigError(f"relative_amplitude must be in (0, 1) "
                              f"(got {self.relative_amplitude})")
        if self.num_pairs < 1:
            raise ConfigError(f"num_pairs must be ≥ 1 (got {self.num_pairs})")
        if self.duration <= 0:
            raise ConfigError(f"duration must be > 0 t.u. (got {self.duration})")
        if self.perturbation_max_wavenumber < 0 or self.perturbation_seed < 0:
            raise ConfigError("perturbation_max_wavenumber and perturbation_seed must be ≥ 0")


def load_config(path: Path):
    """(FlowSpec, LyapunovConfig) from a TOML with `[flow]` and `[lyapunov]` tables."""
    from rollflow.configio import check_keys, from_mapping, load_toml
    from rollflow.specs import FlowSpec

    data = load_toml(path)
    check_keys(data, ("flow", "lyapunov"), f"{path}")
    if "flow" not in data:
        raise ConfigError(f"{path}: missing [flow] table")
    spec = from_mapping(FlowSpec, data["flow"], where="[flow]")
    config = from_mapping(LyapunovConfig, data.get("lyapunov", {}), where="[lyapunov]")
    frames = config.duration / spec.save_interval
    if abs(frames - round(frames)) > 1e-9 * max(1.0, frames):
        raise ConfigError(f"[lyapunov].duration must be a multiple of save_interval = "
                          f"{spec.save_interval} (got {config.duration})")
    return spec, config


def smooth_perturbation(vorticity: np.ndarray, relative_amplitude: float, max_wavenumber: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Random fields (B, N, N) on modes 1 ≤ |k| ≤ max_wavenumber (integer k, L = 2π units),
    each scaled to L2 norm `relative_amplitude` · ‖vorticity[b]‖."""
    batch, n, _ = vorticity.shape
    noise_hat = np.fft.rfft2(rng.standard_normal((batch, n, n)))
    kx = np.fft.fftfreq(n, 1.0 / n)[:, None]
    ky = np.fft.rfftfreq(n, 1.0 / n)[None, :]
    keep = (np.hypot(kx, ky) <= max_wavenumber) & (np.hypot(kx, ky) >= 1)
    noise = np.fft.irfft2(noise_hat * keep, s=(n, n))
    scale = (relative_amplitude * np.linalg.norm(vorticity.reshape(batch, -1), axis=1)
             / np.linalg.norm(noise.reshape(batch, -1), axis=1))
    return noise * scale[:, None, None]


def twin_runs(spec, config: LyapunovConfig, log) -> tuple[np.ndarray, np.ndarray]:
    """Warm up P states, perturb copies, integrate both → two (P, T, N, N) arrays."""
    from rollflow import solver

    pairs = config.num_pairs
    n = spec.simulation_size
    log(f"warm-up: {pairs} states, {spec.warmup_time:g} t.u. at {n}²")
    state = solver.advance(spec, solver.random_initial_vorticity(spec, range(pairs)),
                           spec.warmup_time)
    k_max = config.perturbation_max_wavenumber or n // 3
    rng = np.random.default_rng(config.perturbation_seed)
    perturbed = state + smooth_perturbation(state.astype(np.float64), config.relative_amplitude,
                                            k_max, rng).astype(np.float32)
    num_frames = round(config.duration / spec.save_interval) + 1
    log(f"twins: {2 * pairs} runs × {config.duration:g} t.u.")
    frames = solver.integrate(spec, np.concatenate([state, perturbed]), num_frames,
                              output_size=n)
    return frames[:pairs], frames[pairs:]


def as_dataarray(frames: np.ndarray, spec) -> Any:
    import xarray as xr

    from rollflow.conventions import TIME, X, Y
    n = frames.shape[-1]
    nodes = np.arange(n) * spec.domain_size / n
    return xr.DataArray(frames, dims=("pair", TIME, X, Y), coords={
        "pair": np.arange(frames.shape[0]), TIME: np.arange(frames.shape[1]) * spec.save_interval,
        X: nodes, Y: nodes})


def lyapunov_summary(growth, spec, config, *, command: str, wall: float) -> dict[str, Any]:
    """The numbers of a run with its provenance (command, commit, machine, wall time)."""
    rates = growth.growth_rate.values
    mean = float(np.nanmean(rates))
    return {
        "lyapunov_exponent_mean": mean, "lyapunov_exponent_std": float(np.nanstd(rates)),
        "lyapunov_time": 1.0 / mean if mean > 0 else math.inf,
        "per_pair": {name: growth[name].values.tolist() for name in (
            "growth_rate", "fit_start", "fit_end", "r_squared", "saturation",
            "predictability_time")},
        "reynolds_number": spec.reynolds_number, "simulation_size": spec.simulation_size,
        "lyapunov": dataclasses.asdict(config),
        "command": command,
        "commit": git_commit(), "machine": machine_description(),
        "wall_time_s": round(wall, 1),
    }


def write_outputs(folder: Path, growth, summary: dict[str, Any]) -> None:
    """separation.csv, separation.png and summary.json in `folder`."""
    from rollflow.analysis import plot_separation, save_figure

    folder.mkdir(parents=True, exist_ok=True)
    curves = growth.separation.transpose("time", "pair")
    table = np.column_stack([curves.time.values, curves.values])
    header = "time," + ",".join(f"pair{p}" for p in curves.pair.values)
    np.savetxt(folder / "separation.csv", table, delimiter=",", header=header, comments="")
    save_figure(plot_separation(growth), folder / "separation.png")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")



def lyapunov_experiment(spec, config: LyapunovConfig, *,
                        log: Callable[[str], None] = lambda message: None):
    """Twin runs → `separation_growth` Dataset (per pair: growth_rate, fit window, R², …)
    and the wall seconds it took."""
    from rollflow.analysis import separation_growth

    start = time.perf_counter()
    reference, perturbed = twin_runs(spec, config, log)
    growth = separation_growth(as_dataarray(reference, spec), as_dataarray(perturbed, spec))
    return growth, time.perf_counter() - start
