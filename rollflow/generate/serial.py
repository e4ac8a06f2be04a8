"""Resumable generation of a ground-truth trajectory store (solver → store).

`generate_store` allocates the store (or reopens one with the same spec), skips samples
already flagged complete, simulates the rest in batches and writes each batch as soon as
it is done, with its physics checks (`rollflow.generate.physics`). Interrupting (Ctrl-C) loses at most the batch in flight; running the same
command again finishes the store, and the result equals an uninterrupted run because
sample i depends only on (spec, i).

The TOML side: `[flow]` → `FlowSpec`, optional `[generation]` → `GenerationConfig`, built
by `load_simulation_config` with unknown keys and tables rejected.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from rollflow import store
from rollflow.configio import from_mapping, load_toml
from rollflow.errors import ConfigError
from rollflow.generate.physics import batch_checks
from rollflow.specs import FlowSpec

__all__ = ["estimate_seconds", "cost_line", "duration_text", "SECONDS_PER_STEP_128",
           "GenerationConfig", "SimulationConfig", "load_simulation_config",
           "pending_batches", "open_pending", "generate_store", "SimulateFn", "progress_bar",
           "default_simulate", "simulation_toml"]

SECONDS_PER_STEP_128 = 1.7e-3
"""One CN-RK4 step of one 128² trajectory on one core of this project's CPU (measured:
0.5 s per t.u. at 58 steps per 0.2 t.u. frame, data/kf32 generation, 2026-12-01)."""


def estimate_seconds(spec: FlowSpec) -> float:
    """Rough wall seconds to simulate `spec` on one core (warm-up included), scaled from
    SECONDS_PER_STEP_128 by N² log N; for a cost warning, not a promise."""
    n = spec.simulation_size
    per_step = SECONDS_PER_STEP_128 * (n / 128) ** 2 * math.log2(n) / 7.0
    frames = spec.warmup_frames + spec.num_frames - 1
    return per_step * spec.steps_per_frame * frames * spec.num_samples


def duration_text(seconds: float) -> str:
    """"42 s", "17 min" or "3.1 h"."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def cost_line(spec: FlowSpec, num_pending: int) -> str:
    """Steps per frame and the estimated time for `num_pending` trajectories."""
    total = spec.steps_per_frame * (spec.warmup_frames + spec.num_frames - 1)
    seconds = estimate_seconds(spec) * num_pending / spec.num_samples
    return (f"{spec.steps_per_frame} solver steps per frame (dt = {spec.time_step:.3g} t.u.), "
            f"{total} steps per trajectory; {num_pending} trajectories to simulate, "
            f"≈ {duration_text(seconds)} on one core (estimate)")


SimulateFn = Callable[..., np.ndarray]  # (spec, sample_indices, *, progress) -> (B, T, n, n)


@dataclasses.dataclass(frozen=True, kw_only=True)
class GenerationConfig:
    """How to run a generation (does not change the data).

    Attributes:
        batch_size: trajectories integrated together (one jitted kernel) and written per batch (≥ 1).
    """

    batch_size: int = 4

    def __post_init__(self) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) \
                or self.batch_size < 1:
            raise ConfigError(f"generation.batch_size must be an integer ≥ 1 "
                              f"(got {self.batch_size!r})")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SimulationConfig:
    """A simulation config file: `[flow]` (required) and `[generation]` (optional)."""

    flow: FlowSpec
    generation: GenerationConfig = dataclasses.field(default_factory=GenerationConfig)


def load_simulation_config(path: str | os.PathLike) -> SimulationConfig:
    """Read a simulation TOML; ConfigError names any unknown table/key or invalid value."""
    data = load_toml(path)
    if "flow" not in data:
        raise ConfigError(f"{path}: missing [flow] table")
    return from_mapping(SimulationConfig, data, where=Path(path).name)


def pending_batches(done: np.ndarray, batch_size: int) -> list[range]:
    """Contiguous runs of unfinished samples, split into ranges of ≤ batch_size samples."""
    batches: list[range] = []
    todo = np.flatnonzero(~np.asarray(done, dtype=bool))
    if todo.size == 0:
        return batches
    runs = np.split(todo, np.flatnonzero(np.diff(todo) != 1) + 1)
    for run in runs:
        for start in range(int(run[0]), int(run[-1]) + 1, batch_size):
            batches.append(range(start, min(start + batch_size, int(run[-1]) + 1)))
    return batches


def open_pending(spec: FlowSpec, path: Path, *, batch_size: int, overwrite: bool,
                 command: str | None, attrs: Mapping[str, Any] | None) -> list[range]:
    """Create (or reopen) the store for `spec` at `path` and return its unfinished batches;
    `command` and `attrs` go into the attrs of a newly created store."""
    if batch_size < 1:
        raise ConfigError(f"batch_size must be ≥ 1 (got {batch_size})")
    extra = dict(attrs or {})
    if command is not None:
        extra["command"] = command
    store.create_store(path, spec, attrs=extra, overwrite=overwrite)
    return pending_batches(store.completed_samples(path), batch_size)


def default_simulate() -> SimulateFn:
    """`rollflow.solver.simulate`, imported on first use (jax loads only to generate)."""
    from rollflow.solver import simulate  # jax is imported only when generating
    return simulate


def progress_bar(spec: FlowSpec, batches: list[range], enabled: bool) -> tqdm:
    """One bar over the sample-frames (warm-up included) of `batches`."""
    frames_per_sample = spec.warmup_frames + spec.num_frames
    total = frames_per_sample * sum(len(b) for b in batches)
    return tqdm(total=total, unit="frame", disable=not enabled, dynamic_ncols=True,
                desc=f"simulating {sum(len(b) for b in batches)} samples")


def generate_store(spec: FlowSpec, path: str | os.PathLike, *, batch_size: int,
                   overwrite: bool = False, progress: bool = True, command: str | None = None,
                   attrs: Mapping[str, Any] | None = None,
                   simulate_fn: SimulateFn | None = None) -> Path:
    """Simulate every sample of `spec` into the store at `path`, resuming if possible.

    Args:
        spec: the flow spec; the store holds spec.num_samples trajectories.
        path: zarr directory, or a netCDF file for a .nc suffix.
        batch_size: samples simulated and written together.
        overwrite: replace an existing store (required if its spec differs).
        progress: show a tqdm bar over sample-frames (warm-up included) with the rate
            in simulated t.u. per second and an ETA.
        command: the command line, recorded in the attrs when the store is created.
        attrs: more global attrs for a newly created store (str/int/float values).
        simulate_fn: `simulate(spec, sample_indices, *, progress)` returning
            (B, num_frames, n, n) vorticity; defaults to `rollflow.solver.simulate`.

    Returns the store path. Raises StoreError for a clashing store, SolverBlowUpError
    from the solver; KeyboardInterrupt leaves completed batches on disk.
    """
    path = Path(path)
    with store.writer_lock(path):
        return _generate(spec, path, batch_size=batch_size, overwrite=overwrite,
                         progress=progress, command=command, attrs=attrs,
                         simulate_fn=simulate_fn)


def _generate(spec: FlowSpec, path: Path, *, batch_size: int, overwrite: bool, progress: bool,
              command: str | None, attrs: Mapping[str, Any] | None,
              simulate_fn: SimulateFn | None) -> Path:
    batches = open_pending(spec, path, batch_size=batch_size, overwrite=overwrite,
                           command=command, attrs=attrs)
    if not batches:
        return path
    simulate = simulate_fn if simulate_fn is not None else default_simulate()
    if progress:
        tqdm.write(cost_line(spec, sum(len(b) for b in batches)), file=sys.stderr)
    bar = progress_bar(spec, batches, progress)
    start = time.perf_counter()
    try:
        for number, batch in enumerate(batches, 1):
            bar.set_description(f"batch {number}/{len(batches)} (samples "
                                f"{batch.start}–{batch.stop - 1})")

            def advance(frames: int, size: int = len(batch)) -> None:
                bar.update(frames * size)
                elapsed = max(time.perf_counter() - start, 1e-9)
                bar.set_postfix_str(f"{bar.n * spec.save_interval / elapsed:.2f} t.u./s",
                                    refresh=False)

            vorticity = simulate(spec, np.arange(batch.start, batch.stop), progress=advance)
            store.write_samples(path, vorticity, batch.start, batch_checks(spec, vorticity))
    finally:
        bar.close()
    return path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise ConfigError(f"cannot write {value!r} to TOML")


def simulation_toml(config: Any) -> str:
    """A config dataclass whose fields are flat dataclasses → TOML text, one table each."""
    lines = []
    for field in dataclasses.fields(config):
        lines.append(f"[{field.name}]")
        table = getattr(config, field.name)
        for sub in dataclasses.fields(table):
            lines.append(f"{sub.name} = {_toml_value(getattr(table, sub.name))}")
        lines.append("")
    return "\n".join(lines)
