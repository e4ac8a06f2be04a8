"""Resumable generation: allocate a full-size store, write batches of whole samples, and
record which samples are finished.

A store made by `create_store` has the final shape from the start; its vorticity reads
as NaN until written. Each `write_samples` call writes whole samples (one chunk row per
sample) and only then sets their int8 `completed` flag (one chunk per sample). A process
interrupted mid-batch therefore loses at most that batch: its samples stay flagged 0 and
are simulated again on the next run. Provenance attrs (command, creation time) are written
once at creation; resuming never changes attrs, so a finished resumed store equals an
uninterrupted one except for those two attrs when the runs were separate.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from rollflow.conventions import TRAJECTORY_DIMS, VORTICITY
from rollflow.errors import DataError, StoreError
from rollflow.specs import FlowSpec
from rollflow.store.checks import check_variables, write_sample_checks
from rollflow.store.dataset import VORTICITY_ATTRS, dataset_attrs, trajectory_coords
from rollflow.store.encoding import chunk_shape
from rollflow.store.files import open_raw, publish, read_spec, store_format
from rollflow.store.netcdf_io import read_netcdf_array, write_netcdf, write_netcdf_region
from rollflow.store.validate import COMPLETED, spec_differences
from rollflow.store.zarr_io import read_zarr_array, write_zarr, write_zarr_region

__all__ = ["create_store", "write_samples", "write_sample_values", "mark_completed",
           "completed_samples"]


def _template(spec: FlowSpec, attrs: Mapping[str, Any] | None) -> xr.Dataset:
    """Full-size dataset: lazy NaN vorticity, NaN physics checks, all samples flagged
    unfinished."""
    n = spec.output_size
    shape = (spec.num_samples, spec.num_frames, n, n)
    chunks = chunk_shape(VORTICITY, TRAJECTORY_DIMS, shape)
    vorticity = xr.Variable(TRAJECTORY_DIMS, da.full(shape, np.nan, dtype=np.float32,
                                                     chunks=chunks), dict(VORTICITY_ATTRS))
    completed = xr.Variable(TRAJECTORY_DIMS[:1], np.zeros(spec.num_samples, np.int8),
                            {"long_name": "sample finished",
                             "description": "1 once all frames of the sample are written, "
                                            "0 while pending"})
    return xr.Dataset({VORTICITY: vorticity, COMPLETED: completed, **check_variables(spec)},
                      coords=trajectory_coords(spec), attrs=dataset_attrs(spec, attrs=attrs))


def create_store(path: str | os.PathLike, spec: FlowSpec, *,
                 attrs: Mapping[str, Any] | None = None, overwrite: bool = False) -> None:
    """Allocate a store of shape (num_samples, num_frames, n, n) for `spec` at `path`.

    An existing store with the same spec is kept as it is (resume). A store with a
    different spec, or a foreign file, raises StoreError unless `overwrite`. `attrs` are
    extra global attrs (str/int/float) such as `command` or the resolved `config`.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        try:
            stored = read_spec(path)
        except StoreError as err:
            raise StoreError(f"{err}; choose another output path or use --overwrite") from None
        diffs = spec_differences(stored, spec)
        if diffs:
            raise StoreError(f"{path} holds a different flow spec: differs in "
                             f"{', '.join(diffs)} (stored vs requested); use --overwrite to "
                             "replace it")
        return
    template = _template(spec, attrs)
    if store_format(path) == "netcdf":
        publish(path, lambda tmp: write_netcdf(template, tmp), overwrite=overwrite)
    else:
        publish(path, lambda tmp: write_zarr(template, tmp, compute=False),
                overwrite=overwrite)


def write_samples(path: str | os.PathLike, vorticity: np.ndarray, sample_start: int,
                  checks: Mapping[str, np.ndarray] | None = None) -> None:
    """Write whole samples sample_start … sample_start + B − 1 (and their physics checks,
    `rollflow.store.checks`, when given) and flag them finished.

    Args:
        path: a store made by `create_store`.
        vorticity: (B, num_frames, output_size, output_size), 1/t.u., finite; stored float32.
        sample_start: index of the first sample of the batch.
        checks: per-sample physics checks ((B,) arrays keyed as `store.checks.CHECKS`),
            written before the flag; ignored by a store made before checks were recorded.

    Raises DataError for a wrong shape, out-of-range samples or non-finite values.
    """
    stop = write_sample_values(path, vorticity, sample_start, checks)
    mark_completed(path, range(sample_start, stop))


def write_sample_values(path: str | os.PathLike, vorticity: np.ndarray,
                        sample_start: int,
                        checks: Mapping[str, np.ndarray] | None = None) -> int:
    """Write the vorticity (and `checks`, as in `write_samples`) of whole samples without
    flagging them (a worker's part of
    `write_samples`; the coordinator flags them with `mark_completed` once the write has
    returned). Each sample is its own chunk row, so workers writing different samples
    never touch the same chunk. Returns the stop index (sample_start + B)."""
    path = Path(path)
    spec = read_spec(path)
    values = np.ascontiguousarray(vorticity, dtype=np.float32)
    n = spec.output_size
    if values.ndim != 4 or values.shape[1:] != (spec.num_frames, n, n):
        raise DataError(f"batch must have shape (B, {spec.num_frames}, {n}, {n}) "
                        f"(got {values.shape})")
    stop = sample_start + values.shape[0]
    if sample_start < 0 or stop > spec.num_samples:
        raise DataError(f"samples {sample_start}…{stop - 1} are outside the store's "
                        f"0…{spec.num_samples - 1}")
    if not np.isfinite(values).all():
        raise DataError(f"refusing to write non-finite vorticity for samples "
                        f"{sample_start}…{stop - 1}")
    if checks is not None and any(np.asarray(v).size != values.shape[0]
                                  for v in checks.values()):
        raise DataError(f"physics checks must hold one value per sample of the batch "
                        f"({values.shape[0]})")
    if store_format(path) == "netcdf":
        write_netcdf_region(path, VORTICITY, sample_start, values)
    else:
        write_zarr_region(path, VORTICITY, sample_start, values)
    if checks is not None:
        write_sample_checks(path, sample_start, checks)
    return stop


def mark_completed(path: str | os.PathLike, samples: range) -> None:
    """Flag the contiguous `samples` of the store as fully written."""
    path = Path(path)
    flags = np.ones(len(samples), np.int8)
    if store_format(path) == "netcdf":
        write_netcdf_region(path, COMPLETED, samples.start, flags)
    else:
        write_zarr_region(path, COMPLETED, samples.start, flags)


def completed_samples(path: str | os.PathLike) -> np.ndarray:
    """Boolean array over the store's samples: True where the sample is fully written.

    Works for trajectory stores and for sample stores (`create_sample_store`, e.g.
    forecasts); a store without a `completed` flag (written whole by `save_dataset`) is
    complete.
    """
    path = Path(path)
    with open_raw(path) as ds:
        num_samples = ds.sizes.get(TRAJECTORY_DIMS[0], 0)
        has_flags = COMPLETED in ds.variables
    if not has_flags:
        return np.ones(num_samples, dtype=bool)
    if store_format(path) == "netcdf":
        flags = read_netcdf_array(path, COMPLETED)
    else:
        flags = read_zarr_array(path, COMPLETED)
    if flags is None or flags.shape != (num_samples,):
        raise StoreError(f"{path}: {COMPLETED} has shape "
                         f"{None if flags is None else flags.shape}, expected ({num_samples},)")
    return flags.astype(bool)
