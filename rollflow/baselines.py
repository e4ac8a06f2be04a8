"""Solver baselines (METHOD.md §4): jax-cfd at the data resolution and at finer grids,
started from the same (downsampled) initial state as the model, and persistence.

The initial state is the truth frame at `init_index` on the output grid n; for a finer
solver grid N it is spectrally zero-padded (no information is added). Frames are saved
on the output grid, so the result has exactly the layout of `rollflow.forecast.forecast`
(dims sample, member, time, x, y with one member and a `lead_time` coordinate, built by
`rollflow.store.forecast_dataset`, the builder model forecasts use too) and is scored by
the same code. `source_attrs` (the truth store's attrs) carry the truth's identity
(`flow_*`, `segments_*`) into the forecast.
"""

from __future__ import annotations

import os
import time as _time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from rollflow import solver
from rollflow.conventions import SAMPLE, SPEC_ATTR_PREFIX, TIME, VORTICITY, X, Y
from rollflow.errors import DataError
from rollflow.specs import FlowSpec
from rollflow.store.forecasts import forecast_dataset

__all__ = ["spectral_upsample", "solver_forecast", "persistence_forecast",
           "climatology_forecasts", "reference_forecast_stores"]


def spectral_upsample(field: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad the Fourier modes of (…, n, n) real fields to (…, N, N), N = `size` ≥ n.

    The trigonometric interpolant: values at the coarse nodes are unchanged when the coarse
    field has no Nyquist content (true for truncated data).
    """
    n = field.shape[-1]
    if field.shape[-2] != n or size < n or size % 2:
        raise DataError(f"cannot upsample shape {field.shape} to {size}×{size}")
    if size == n:
        return np.array(field, dtype=np.float64)
    coarse = np.fft.rfft2(field)
    fine = np.zeros(field.shape[:-2] + (size, size // 2 + 1), dtype=complex)
    half = n // 2
    fine[..., :half, :half] = coarse[..., :half, :half]
    fine[..., size - half + 1:, :half] = coarse[..., n - half + 1:, :half]
    return np.fft.irfft2(fine * (size / n) ** 2, s=(size, size))


def solver_forecast(truth: xr.DataArray, spec: FlowSpec, *, init_index: int, num_frames: int,
                    simulation_size: int, frame_stride: int = 1,
                    progress: Callable[[int], object] | None = None,
                    source_attrs: Mapping[str, Any] | None = None,
                    backend: str | None = None) -> xr.Dataset:
    """Solve from truth[:, init_index] on an N = `simulation_size` grid.

    Args:
        truth: vorticity (sample, time, x, y) on the output grid n = spec.output_size.
        spec: the truth's FlowSpec (physics and save interval).
        init_index: time index of the initial state.
        num_frames: frames to return after the initial state, spaced frame_stride·Δt.
        simulation_size: solver grid N (even, ≥ n).
        progress: called with the number of solver frames completed (see
            `rollflow.solver.integrate`); they sum to num_frames · frame_stride + 1.
        backend: the solver ("jaxcfd" or "exponax"; default: the truth's), recorded as
            `forecast_solver_backend`.

    Returns:
        Dataset like `rollflow.forecast.forecast`: `vorticity` (sample, member=1, time, x, y)
        with attrs `forecast_mode = "solver"`, `forecast_simulation_size` and the measured
        `forecast_seconds_per_time_unit`: wall seconds per simulated t.u. per trajectory
        (the batch's time divided by its samples), after a short run that compiles the
        kernels, so compilation is not counted.
    """
    missing = [d for d in (SAMPLE, TIME, X, Y) if d not in truth.dims]
    if missing:
        raise DataError(f"truth lacks dims {missing}; expected (sample, time, x, y)")
    truth = truth.transpose(SAMPLE, TIME, X, Y)
    n = truth.sizes[X]
    if n != spec.output_size:
        raise DataError(f"truth grid {n} differs from the spec's output_size {spec.output_size}")
    ref_spec = spec.replace(simulation_size=simulation_size, output_size=n,
                            backend=backend or spec.backend)
    start = np.asarray(truth.isel({TIME: init_index}).values, dtype=np.float64)
    bad = ~np.isfinite(start).all(axis=(1, 2))
    if bad.any():
        raise DataError(f"sample(s) {truth[SAMPLE].values[bad].tolist()} have non-finite "
                        f"values in their initial state (time index {init_index}); nothing "
                        f"solved for them")
    start_field = spectral_upsample(start, simulation_size)
    start_field = start_field.astype(np.float32)
    solver.integrate(ref_spec, start_field, 2)          # compile (kept out of the timing)
    clock = _time.perf_counter()
    frames = solver.integrate(ref_spec, start_field, num_frames * frame_stride + 1,
                              progress=progress)
    seconds = _time.perf_counter() - clock
    frames = frames[:, frame_stride::frame_stride]
    lead_time = num_frames * frame_stride * spec.save_interval
    return forecast_dataset(frames[:, None], truth, init_index=init_index,
                            frame_stride=frame_stride,
                            source_attrs={**spec.to_attrs(), **(source_attrs or {})}, attrs={
        "forecast_mode": "solver", "forecast_simulation_size": simulation_size,
        "forecast_solver_backend": ref_spec.backend,
        "forecast_num_members": 1,
        "forecast_seconds_per_time_unit": seconds / lead_time / truth.sizes[SAMPLE]})


def persistence_forecast(truth: xr.DataArray, *, init_index: int, num_frames: int,
                         frame_stride: int = 1, save_interval: float,
                         source_attrs: Mapping[str, Any] | None = None) -> xr.Dataset:
    """The zero-skill reference: the initial state repeated at every lead.

    Same layout as `solver_forecast` (sample, member = 1, time, x, y) with
    `forecast_mode = "persistence"` and zero cost.
    """
    missing = [d for d in (SAMPLE, TIME, X, Y) if d not in truth.dims]
    if missing:
        raise DataError(f"truth lacks dims {missing}; expected (sample, time, x, y)")
    truth = truth.transpose(SAMPLE, TIME, X, Y)
    start = np.asarray(truth.isel({TIME: init_index}).values, dtype=np.float32)
    frames = np.repeat(start[:, None, None], num_frames, axis=2)
    return forecast_dataset(frames, truth, init_index=init_index, frame_stride=frame_stride,
                            source_attrs={SPEC_ATTR_PREFIX + "save_interval": save_interval,
                                          **(source_attrs or {})},
                            attrs={"forecast_mode": "persistence", "forecast_num_members": 1,
                                   "forecast_seconds_per_time_unit": 0.0})


def climatology_forecasts(truth: xr.DataArray, climate: xr.DataArray, *, init_index: int,
                          num_frames: int, num_members: int = 8, seed: int = 0,
                          frame_stride: int = 1,
                          source_attrs: Mapping[str, Any] | None = None
                          ) -> tuple[xr.Dataset, xr.Dataset]:
    """The "no skill" references from a climate store (other trajectories of the flow):

    - deterministic climatology: the climate's time- and sample-mean field at every lead
      (its RMSE saturates at the flow's variability about the mean state);
    - probabilistic climatology: `num_members` members, each lead a frame drawn at random
      (generator seeded with `seed`) from the climate (its CRPS is the no-skill level of
      an ensemble).

    Both in the forecast layout (`rollflow.store.forecast_dataset`), cost 0.
    """
    missing = [d for d in (SAMPLE, TIME, X, Y) if d not in climate.dims]
    if missing:
        raise DataError(f"climate lacks dims {missing}; expected (sample, time, x, y)")
    truth = truth.transpose(SAMPLE, TIME, X, Y)
    climate = climate.transpose(SAMPLE, TIME, X, Y)
    if climate.sizes[X] != truth.sizes[X]:
        raise DataError(f"climate grid {climate.sizes[X]} differs from the truth's "
                        f"{truth.sizes[X]}")
    samples = truth.sizes[SAMPLE]
    mean = np.asarray(climate.mean((SAMPLE, TIME)).values, dtype=np.float32)
    deterministic = np.broadcast_to(mean, (samples, 1, num_frames, *mean.shape))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, climate.sizes[SAMPLE] * climate.sizes[TIME],
                         size=(samples, num_members, num_frames))
    which, when = np.divmod(picks, climate.sizes[TIME])
    frames = np.empty((samples, num_members, num_frames, *mean.shape), dtype=np.float32)
    for s in range(climate.sizes[SAMPLE]):       # one read per climate sample
        hit = which == s
        if hit.any():
            values = np.asarray(climate.isel({SAMPLE: s}).values, dtype=np.float32)
            frames[hit] = values[when[hit]]
    common = dict(init_index=init_index, frame_stride=frame_stride, source_attrs=source_attrs)
    return (forecast_dataset(np.array(deterministic), truth, **common,
                             attrs={"forecast_mode": "climatology", "forecast_num_members": 1,
                                    "forecast_seconds_per_time_unit": 0.0}),
            forecast_dataset(frames, truth, **common,
                             attrs={"forecast_mode": "probabilistic climatology",
                                    "forecast_num_members": num_members, "forecast_seed": seed,
                                    "forecast_seconds_per_time_unit": 0.0}))


def reference_forecast_stores(truth_path: str | os.PathLike, target: str | os.PathLike, *,
                              init_index: int, num_frames: int,
                              solver_sizes: Sequence[int] = (),
                              climate_path: str | os.PathLike | None = None,
                              num_members: int = 8, seed: int = 0,
                              say: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write the references for the truth store's states into `target/`: persistence.zarr,
    climatology.zarr and climatology_prob.zarr (from `climate_path`'s trajectories, when
    given) and solver_<N>.zarr for each grid N, back to back (so that the solvers' costs
    are measured side by side). A store that exists is kept (resume; each is published
    whole by `save_dataset`, so none is ever half written). `target` may not be or lie
    inside an input store (StoreError). Returns name → path.
    """
    from rollflow.store import check_not_input, open_trajectories, read_spec, save_dataset

    check_not_input(target, [truth_path, climate_path], what="reference folder")
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    truth = open_trajectories(truth_path)
    values, spec = truth[VORTICITY].load(), read_spec(truth_path)
    common = dict(init_index=init_index, num_frames=num_frames, source_attrs=truth.attrs)
    paths = {"persistence": target / "persistence.zarr"}
    if not paths["persistence"].exists():
        save_dataset(persistence_forecast(values, save_interval=spec.save_interval, **common),
                     paths["persistence"])
    if climate_path is not None:
        paths |= {n: target / f"{n}.zarr" for n in ("climatology", "climatology_prob")}
        if not all(p.exists() for n, p in paths.items() if n != "persistence"):
            climate = open_trajectories(climate_path)[VORTICITY]
            for name, result in zip(("climatology", "climatology_prob"), climatology_forecasts(
                    values, climate, num_members=num_members, seed=seed, **common)):
                save_dataset(result, paths[name], overwrite=True)
    for size in solver_sizes:
        paths[f"solver_{size}"] = target / f"solver_{size}.zarr"
        if not paths[f"solver_{size}"].exists():
            if say:
                say(f"{spec.backend} {size}² from the same {values.sizes[SAMPLE]} states")
            save_dataset(solver_forecast(values, spec, simulation_size=size, **common),
                         paths[f"solver_{size}"])
    return paths
