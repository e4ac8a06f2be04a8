"""Forecasts written batch by batch into a resumable store: bounded memory, any size.

`forecast_to_store` allocates the full (sample, member, time, x, y) store up front (it
reads as NaN until written), then forecasts one batch of samples at a time, writes that
region and flags its samples finished. Memory holds one batch (batch_size × members
trajectories), whatever the number of samples. Interrupting loses at most the batch in
flight — with `ForecastSettings.time_chunk`, at most the chunk of frames in flight
(`forecast.timechunks`: long rollouts) — and the same call again skips finished work. Because batch b is seeded with
seed + its first sample index (`ForecastSettings.seed`), the finished store equals the
in-memory `forecast()` with the same settings, value for value.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time as _time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from rollflow import store
from rollflow.conventions import SAMPLE, TIME, VORTICITY, X, Y
from rollflow.forecast.estimate import timing_attrs
from rollflow.forecast.fingerprint import FINGERPRINT_ATTR
from rollflow.forecast.rollout import (ForecastModel, ForecastPlan, ForecastSettings,
                                       forecast_dataset, plan_forecast)
from rollflow.forecast.timechunks import check_time_chunk, partial_dir, run_batch_in_chunks

__all__ = ["ForecastRun", "forecast_to_store", "forecast_with_progress", "pending_batch_starts",
           "RESUME_ATTRS"]

RESUME_ATTRS = ("forecast_mode", "forecast_num_context", "forecast_window_size",
                "forecast_eta", "forecast_steps_per_shift", "forecast_init_index",
                "forecast_init_time", "forecast_frame_stride", "forecast_seed",
                "forecast_batch_size", "forecast_precision", "forecast_symmetry_members",
                "forecast_context_noise", FINGERPRINT_ATTR)
"""Attrs that must match for an existing store to be resumed (plus the caller's extras);
`forecast_weights_sha256` (`fingerprint.weights_fingerprint`): the same weights;
`forecast_context_noise` is recorded only when > 0 (absent: unperturbed, as every store
written before the option), so a store resumes only under the same perturbation.
Not `forecast_time_chunk`: the values do not depend on it, and a saved sampler state
continues under any chunk size (a block sampler's saved point is a whole block)."""


@dataclasses.dataclass(frozen=True)
class ForecastRun:
    """What `forecast_to_store` did.

    Attributes:
        path: the store.
        resumed: an existing store was reopened.
        num_batches: batches of the whole forecast; num_run: batches forecast by this call.
    """

    path: Path
    resumed: bool
    num_batches: int
    num_run: int


def pending_batch_starts(done: np.ndarray, batch_size: int) -> list[int]:
    """First sample of every batch (fixed boundaries 0, B, 2B, …) with an unfinished sample;
    fixed boundaries keep each batch's seed the same across resumes."""
    done = np.asarray(done, dtype=bool)
    return [first for first in range(0, done.size, batch_size)
            if not done[first:first + batch_size].all()]


def _template(plan: ForecastPlan, settings: ForecastSettings, attrs: Mapping[str, Any],
              extra_attrs: Mapping[str, Any]) -> xr.Dataset:
    n = plan.truth.sizes
    shape = (n[SAMPLE], settings.num_members, settings.num_frames, n[X], n[Y])
    lazy = da.full(shape, np.nan, dtype=np.float32,
                   chunks=(1, 1, settings.num_frames, n[X], n[Y]))
    ds = forecast_dataset(lazy, plan.truth, attrs, settings, plan.config, plan.stride,
                          precision=plan.precision, fingerprint=plan.fingerprint)
    ds.attrs.update(extra_attrs)
    return ds


def forecast_to_store(model: ForecastModel, truth: xr.DataArray, settings: ForecastSettings,
                      path: str | os.PathLike, *, attrs: Mapping[str, Any] | None = None,
                      extra_attrs: Mapping[str, Any] | None = None, overwrite: bool = False,
                      progress: Callable[[int], None] | None = None,
                      on_start: Callable[[int], None] | None = None,
                      warn: Callable[[str], None] | None = None) -> ForecastRun:
    """Forecast every sample of `truth` into the store at `path`, resuming if possible.

    Args:
        model, truth, settings, attrs: as for `rollflow.forecast.forecast`.
        path: zarr directory, or a netCDF file for a .nc suffix.
        extra_attrs: more global attrs (str/int/float), e.g. the checkpoint; they must
            match too for a resume.
        overwrite: replace an existing store instead of resuming it.
        progress: called with the frames of each chunk after it is written.
        on_start: called once with the number of batches still to forecast.
        warn: receives one-line notices (see `plan_forecast`).

    Timing attrs (`forecast_seconds_per_frame`, …) are measured on the batches this call
    forecasts and extrapolated to the whole forecast; they are rewritten after each batch.
    Raises StoreError if `path` holds a different forecast (naming the difference).
    """
    path = Path(path)
    with store.writer_lock(path):
        return _forecast_to_store(model, truth, settings, path, attrs=attrs,
                                  extra_attrs=extra_attrs, overwrite=overwrite,
                                  progress=progress, on_start=on_start, warn=warn)


def forecast_with_progress(model: ForecastModel, truth: xr.DataArray,
                           settings: ForecastSettings, path: str | os.PathLike, *,
                           desc: str, **kwargs: Any) -> ForecastRun:
    """`forecast_to_store` behind a progress bar on stderr (frames of the batches still to
    forecast, with a time estimate); `kwargs` go to `forecast_to_store`."""
    import sys

    from tqdm import tqdm

    bar = tqdm(total=0, unit="frame", desc=desc, file=sys.stderr, dynamic_ncols=True)
    with bar:
        return forecast_to_store(model, truth, settings, path, progress=bar.update,
                                 on_start=lambda n: bar.reset(total=n * settings.num_frames),
                                 **kwargs)


def _forecast_to_store(model, truth, settings, path, *, attrs, extra_attrs, overwrite,
                       progress, on_start, warn) -> ForecastRun:
    plan = plan_forecast(model, truth, settings, warn=warn, attrs=attrs)
    check_time_chunk(plan, settings)
    extra = dict(extra_attrs or {})
    template = _template(plan, settings, truth.attrs if attrs is None else attrs, extra)
    resumed = store.create_sample_store(path, template, match_attrs=RESUME_ATTRS + tuple(extra),
                                        overwrite=overwrite)
    partial = partial_dir(path)
    if not resumed and partial.exists():       # states of a replaced store's batches
        shutil.rmtree(partial)
    starts = pending_batch_starts(store.completed_samples(path), settings.batch_size)
    num_batches = -(-plan.truth.sizes[SAMPLE] // settings.batch_size)
    if on_start is not None:
        on_start(len(starts))
    cost = {"calls": 0, "seconds": 0.0, "timed": 0, "batches": 0}

    def finished(first: int, batch: tuple[int, float]) -> None:
        samples = range(first, min(first + settings.batch_size, plan.truth.sizes[SAMPLE]))
        cost["calls"] += batch[0]
        cost["seconds"] += batch[1]
        cost["timed"] += len(samples)
        cost["batches"] += 1
        store.update_attrs(path, timing_attrs(template, settings, calls=cost["calls"],
                                              num_batches=cost["batches"],
                                              seconds=cost["seconds"],
                                              num_samples_timed=cost["timed"]))
        store.mark_completed(path, samples)

    for first in starts:
        run_batch_in_chunks(
            model, plan, settings, first, partial, progress=progress,
            write=lambda values, frame, first=first: store.write_sample_region(
                path, {VORTICITY: values}, first, offsets={TIME: frame}),
            done_with=lambda batch, first=first: finished(first, batch))
    if partial.exists() and store.completed_samples(path).all():
        shutil.rmtree(partial)
    return ForecastRun(path=path, resumed=resumed, num_batches=num_batches,
                       num_run=len(starts))
