"""Batched time integration: warm-up, saved trajectories, and the full simulate pipeline.

Integration runs in jitted chunks of up to `chunk_frames(spec)` save intervals (≈ 2 t.u.);
between chunks the driver reports progress and checks for blow-up (see `blowup`). While a
chunk runs, the main thread stays responsive to Ctrl-C and SIGTERM (`wait.wait_ready`).

Batching: one jitted chunk runs the whole batch, by default with `jax.lax.map` (samples one
after another through the same compiled single-sample code) rather than `jax.vmap`. Two
measured reasons (docs/performance.md, "Solver"): (1) vmap does not pay on CPU — per
trajectory it ran at 0.6–1.1× the speed of one unbatched trajectory at 64²–256²;
(2) vmap makes a sample's numbers depend on the batch: XLA compiles a batch of 1 to a
different rounding than batches ≥ 2 (≈ 1 ulp per step, amplified by chaos to O(1)
differences within the warm-up), so keeping `simulate([0, 1])[1] == simulate([1])[0]`
needed padding a batch of 1 to 2 (2× its cost). With `lax.map` every batch size gives
bitwise the same sample (checked for 1, 2, 3, 8). `vectorized=True` in `make_kernels`
keeps the vmap variant for the benchmark. Compiled chunk functions are cached per (step
configuration, output size, chunk length, batching); a new batch size compiles once more.

Precision: float32 (JAX's default), ≈ 1.9× faster than float64 (measured at 64²) and far
more accurate than the truncation error of a 2/3-dealiased grid needs; enable
`jax_enable_x64` (e.g. `with jax.enable_x64(True):`) to run the steps in float64 (outputs
stay float32, initial fields are drawn in float32 either way).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rollflow.errors import DataError, SpecError
from rollflow.solver.blowup import check_chunk, check_input, speed_limit
from rollflow.solver.equation import StepConfig, make_frame_fn, make_velocity_fn, real_dtype
from rollflow.solver.initial import random_initial_vorticity
from rollflow.solver.resample import truncate_hat
from rollflow.solver.wait import run_ready
from rollflow.specs import FlowSpec

__all__ = ["advance", "integrate", "simulate", "chunk_frames", "CHUNK_TIME", "make_kernels"]

CHUNK_TIME = 2.0  # simulated t.u. per jitted chunk (between progress calls/blow-up checks)

ProgressFn = Callable[[int], object]


def chunk_frames(spec: FlowSpec) -> int:
    """Save intervals per jitted chunk: ⌈CHUNK_TIME / save_interval⌉ (≥ 1)."""
    return max(1, math.ceil(CHUNK_TIME / spec.save_interval - 1e-9))


class _Kernels(NamedTuple):
    """Jitted batched functions of one (config, output size n, chunk length C).

    chunk_fn: (state_hat (B, N, N//2+1), count ≤ C) → (state_hat after count intervals,
        frames (B, C, n, n) of which the first count are filled, max speed (B,)).
    output_fn: state_hat (B, N, N//2+1) → truncated frames (B, n, n).
    """

    chunk_fn: Callable
    output_fn: Callable


@functools.lru_cache(maxsize=32)
def make_kernels(config: StepConfig, output_size: int, num_chunk: int, *,
                  vectorized: bool = False) -> _Kernels:
    """Jitted batched chunk integrator and output truncation for one configuration.

    `vectorized=False` (used by the API): `lax.map` over samples, batch-invariant.
    `vectorized=True` (benchmark only): `vmap`, whose rounding depends on the batch size.
    """
    size = config.simulation_size
    frame_one = make_frame_fn(config)
    velocity_fn = make_velocity_fn(config)

    def output_one(state_hat: jax.Array) -> jax.Array:
        out_hat = truncate_hat(state_hat, size, output_size, jnp)
        return jnp.fft.irfft2(out_hat, s=(output_size, output_size))

    def speed_one(state_hat: jax.Array) -> jax.Array:
        u, v = velocity_fn(state_hat)
        return jnp.sqrt(jnp.max(u * u + v * v))

    def chunk_one(state_hat: jax.Array, count: jax.Array):
        dtype = jnp.real(state_hat).dtype
        frames = jnp.zeros((num_chunk, output_size, output_size), dtype)

        def body(i, carry):
            state, frames = carry
            state = frame_one(state)
            return state, frames.at[i].set(output_one(state))

        state_hat, frames = jax.lax.fori_loop(0, count, body, (state_hat, frames))
        return state_hat, frames, speed_one(state_hat)

    if vectorized:
        chunk_fn = jax.vmap(chunk_one, in_axes=(0, None))
        output_fn = jax.vmap(output_one)
    else:
        def chunk_fn(states_hat: jax.Array, count: jax.Array):
            return jax.lax.map(lambda state_hat: chunk_one(state_hat, count), states_hat)

        def output_fn(states_hat: jax.Array) -> jax.Array:
            return jax.lax.map(output_one, states_hat)

    return _Kernels(jax.jit(chunk_fn), jax.jit(output_fn))


def _check_batch(spec: FlowSpec, vorticity: np.ndarray,
                 sample_indices: Sequence[int] | None) -> tuple[np.ndarray, list[int]]:
    """The batch as an array (B, N, N) and its sample labels; DataError on a mismatch."""
    field = np.asarray(vorticity)
    n = spec.simulation_size
    if field.ndim != 3 or field.shape[1:] != (n, n):
        raise DataError(f"vorticity must have shape (B, {n}, {n}), got {field.shape}")
    batch = field.shape[0]
    labels = list(range(batch)) if sample_indices is None else [int(i) for i in sample_indices]
    if len(labels) != field.shape[0]:
        raise DataError(f"{len(labels)} sample_indices for a batch of {field.shape[0]}")
    return field, labels


def _to_state_hat(field: np.ndarray) -> jax.Array:
    """rfft2 of a (B, N, N) batch in the solver's precision (sample by sample)."""
    return _rfft2_each(jnp.asarray(field, dtype=real_dtype()))


@jax.jit
def _rfft2_each(fields: jax.Array) -> jax.Array:
    return jax.lax.map(jnp.fft.rfft2, fields)


@functools.partial(jax.jit, static_argnums=1)
def _irfft2_each(states_hat: jax.Array, size: int) -> jax.Array:
    return jax.lax.map(lambda state_hat: jnp.fft.irfft2(state_hat, s=(size, size)), states_hat)


def _num_intervals(spec: FlowSpec, duration: float) -> int:
    ratio = duration / spec.save_interval
    if duration < 0 or abs(ratio - round(ratio)) > 1e-9 * max(1.0, ratio):
        raise SpecError(f"duration must be a non-negative multiple of save_interval = "
                        f"{spec.save_interval} t.u. (got {duration!r})")
    return round(ratio)


def _evolve(spec: FlowSpec, state_hat: jax.Array, num_intervals: int, kernels: _Kernels, *,
            labels: list[int], time_offset: float, progress: ProgressFn | None,
            keep_frames: bool, extra_frames: int = 0) -> tuple[jax.Array, list[np.ndarray]]:
    """Advance `num_intervals` save intervals in chunks; return the state and kept frames."""
    num_chunk = chunk_frames(spec)
    limit = speed_limit(spec)
    kept: list[np.ndarray] = []
    done = 0
    while done < num_intervals:
        count = min(num_chunk, num_intervals - done)
        # compiled and run in a helper thread: Ctrl-C / SIGTERM heard within 0.2 s meanwhile
        state_hat, frames, speed = run_ready(kernels.chunk_fn, state_hat, count)
        frames = np.asarray(frames)[:, :count]
        check_chunk(frames, np.asarray(speed), labels=labels,
                    start_time=time_offset + done * spec.save_interval,
                    save_interval=spec.save_interval, limit=limit)
        if keep_frames:
            kept.append(frames)
        done += count
        if progress is not None:
            progress(count + extra_frames)
        extra_frames = 0
    if extra_frames and progress is not None:
        progress(extra_frames)
    return state_hat, kept


def _advance(spec: FlowSpec, vorticity: np.ndarray, duration: float, *,
             progress: ProgressFn | None, sample_indices, time_offset: float) -> np.ndarray:
    field, labels = _check_batch(spec, vorticity, sample_indices)
    check_input(field, labels, time_offset)
    kernels = make_kernels(StepConfig.from_spec(spec), spec.output_size, chunk_frames(spec))
    state_hat = _to_state_hat(field)
    state_hat, _ = _evolve(spec, state_hat, _num_intervals(spec, duration), kernels,
                           labels=labels, time_offset=time_offset, progress=progress,
                           keep_frames=False)
    return np.array(_irfft2_each(state_hat, spec.simulation_size), dtype=np.float32)


def advance(spec: FlowSpec, vorticity: np.ndarray, duration: float, *,
            progress: ProgressFn | None = None,
            sample_indices: Sequence[int] | None = None) -> np.ndarray:
    """Integrate a batch for `duration` t.u. at simulation resolution, saving nothing.

    Args:
        spec: physics, grid and save_interval (chunking, progress units).
        vorticity: (B, N_sim, N_sim) initial vorticity, 1/t.u., axes (x, y).
        duration: t.u., a non-negative multiple of spec.save_interval.
        progress: called with the number of save intervals done after each chunk.
        sample_indices: B labels used in blow-up messages (default 0..B−1).

    Returns:
        (B, N_sim, N_sim) float32 vorticity at t + duration (full resolution, not truncated).

    Raises:
        SolverBlowUpError: a sample became non-finite or ran away (message names it and t).
    """
    return _advance(spec, vorticity, duration, progress=progress,
                    sample_indices=sample_indices, time_offset=0.0)


def integrate(spec: FlowSpec, vorticity: np.ndarray, num_frames: int, *,
              output_size: int | None = None, progress: ProgressFn | None = None,
              sample_indices: Sequence[int] | None = None,
              time_offset: float = 0.0) -> np.ndarray:
    """Integrate a batch and save `num_frames` frames every spec.save_interval.

    Args:
        spec: physics, grid, save_interval and default output_size.
        vorticity: (B, N_sim, N_sim) vorticity at time `time_offset`, 1/t.u., axes (x, y).
        num_frames: frames to return (≥ 1); frame 0 is the input state.
        output_size: n of the returned frames (even, ≤ N_sim); default spec.output_size.
        progress: called after each chunk with the number of frames completed (frame 0
            counts in the first call, so the calls sum to num_frames).
        sample_indices: B labels used in blow-up messages (default 0..B−1).
        time_offset: time of the input state, t.u. (used in blow-up messages only).

    Returns:
        (B, num_frames, n, n) float32 frames, spectrally truncated to n with the Nyquist row
        and column zeroed (also when n = N_sim).
    """
    field, labels = _check_batch(spec, vorticity, sample_indices)
    n = spec.output_size if output_size is None else output_size
    if not (isinstance(n, (int, np.integer)) and n % 2 == 0 and 4 <= n <= spec.simulation_size):
        raise SpecError(f"output_size must be an even integer in [4, {spec.simulation_size}], "
                        f"got {n!r}")
    if not (isinstance(num_frames, (int, np.integer)) and num_frames >= 1):
        raise SpecError(f"num_frames must be an integer ≥ 1, got {num_frames!r}")
    check_input(field, labels, time_offset)
    kernels = make_kernels(StepConfig.from_spec(spec), int(n), chunk_frames(spec))
    state_hat = _to_state_hat(field)
    first = np.asarray(kernels.output_fn(state_hat))[:, None]
    _, kept = _evolve(spec, state_hat, int(num_frames) - 1, kernels, labels=labels,
                      time_offset=time_offset, progress=progress, keep_frames=True,
                      extra_frames=1)
    return np.concatenate([first, *kept], axis=1).astype(np.float32)


def simulate(spec: FlowSpec, sample_indices: Sequence[int], *,
             progress: ProgressFn | None = None) -> np.ndarray:
    """Random initial state → warm-up (spec.warmup_time) → spec.num_frames saved frames.

    Args:
        spec: the dataset definition.
        sample_indices: which samples (their keys depend on spec.seed and the index only).
        progress: called after each chunk; calls sum to warmup_frames + num_frames.

    Returns:
        (B, spec.num_frames, spec.output_size, spec.output_size) float32 vorticity,
        frame 0 at the end of the warm-up (time 0). Blow-up messages give warm-up times
        as negative t.u.
    """
    initial = random_initial_vorticity(spec, sample_indices)
    labels = [int(i) for i in sample_indices]
    warm = _advance(spec, initial, spec.warmup_frames * spec.save_interval, progress=progress,
                    sample_indices=labels, time_offset=-spec.warmup_frames * spec.save_interval)
    return integrate(spec, warm, spec.num_frames, progress=progress, sample_indices=labels)
