"""Resumable stores of any dataset whose data variables lead with `sample` (forecasts).

The generalisation of `rollflow.store.resumable` to datasets that are not trajectory
stores of a `FlowSpec`, e.g. ensemble forecasts (sample, member, time, x, y):

- `create_sample_store(path, template)` allocates the full-size store from a template
  whose data variables may be lazy (dask); they read as NaN until written. A per-sample
  int8 `completed` flag starts at 0.
- `write_sample_region(path, values, start)` writes whole samples of each variable (one
  chunk row per sample, so writers of different samples never share a chunk);
  `mark_completed` then flags them.
- `update_attrs(path, attrs)` records what is known only at the end (e.g. timings).

Reopening an existing store with the same layout and the same `match_attrs` resumes it;
anything else is a StoreError naming the difference.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import xarray as xr
import zarr

from rollflow.conventions import SAMPLE
from rollflow.errors import DataError, StoreError
from rollflow.store.files import open_raw, publish, store_format
from rollflow.store.netcdf_io import write_netcdf, write_netcdf_region
from rollflow.store.validate import COMPLETED
from rollflow.store.zarr_io import consolidate, write_zarr, write_zarr_region

__all__ = ["create_sample_store", "write_sample_region", "update_attrs"]


def _with_flags(template: xr.Dataset) -> xr.Dataset:
    for name, var in template.data_vars.items():
        if not var.dims or var.dims[0] != SAMPLE:
            raise DataError(f"variable {name!r} has dims {var.dims}; a sample store needs "
                            f"{SAMPLE!r} first in every data variable")
    flags = xr.Variable((SAMPLE,), np.zeros(template.sizes[SAMPLE], np.int8),
                        {"long_name": "sample finished",
                         "description": "1 once all values of the sample are written, "
                                        "0 while pending"})
    return template.assign({COMPLETED: flags})


def _differences(stored: xr.Dataset, template: xr.Dataset,
                 match_attrs: Sequence[str]) -> list[str]:
    diffs = []
    if COMPLETED not in stored.variables:
        diffs.append("it is not a resumable store (no 'completed' flag)")
    for name, var in template.data_vars.items():
        if name not in stored or stored[name].dims != var.dims or \
                stored[name].shape != var.shape:
            got = (stored[name].dims, stored[name].shape) if name in stored else "missing"
            diffs.append(f"variable {name} ({got} vs {(var.dims, var.shape)})")
    for dim, coord in template.coords.items():
        if dim in template.dims and (dim not in stored.coords or not np.array_equal(
                np.asarray(stored[dim].values), np.asarray(coord.values))):
            diffs.append(f"coordinate {dim}")
    for key in match_attrs:
        a, b = stored.attrs.get(key), template.attrs.get(key)
        if a != b:
            diffs.append(f"{key} ({a!r} vs {b!r})")
    return diffs


def create_sample_store(path: str | os.PathLike, template: xr.Dataset, *,
                        match_attrs: Sequence[str] = (), overwrite: bool = False) -> bool:
    """Allocate the store for `template` at `path`, or reopen a matching one.

    Args:
        path: zarr directory, or a netCDF file for a .nc suffix.
        template: the dataset as it will be once complete; data variables lead with
            `sample` and may be lazy (dask), in which case they are not computed.
        match_attrs: attrs that must equal the stored ones for a resume.
        overwrite: replace whatever is at `path`.

    Returns True if an existing store was reopened, False if a new one was made.
    Raises StoreError if `path` holds anything else (naming the differences).
    """
    path = Path(path)
    full = _with_flags(template)
    if path.exists() and not overwrite:
        with open_raw(path) as stored:
            diffs = _differences(stored, template, match_attrs)
        if diffs:
            raise StoreError(f"{path} holds a different dataset: {'; '.join(diffs)} "
                             "(stored vs requested); use --overwrite to replace it")
        return True
    if store_format(path) == "netcdf":
        publish(path, lambda tmp: write_netcdf(full, tmp), overwrite=overwrite)  # chunk by chunk
    else:
        publish(path, lambda tmp: write_zarr(full, tmp, compute=False), overwrite=overwrite)
    return False


def write_sample_region(path: str | os.PathLike, values: Mapping[str, np.ndarray],
                        start: int, *, offsets: Mapping[str, int] | None = None) -> range:
    """Write samples start … start + B − 1 of each variable in `values` (not flagged;
    call `mark_completed` after). Returns the range of samples written. Whole samples by
    default; with `offsets` (dim name → first index, e.g. {"time": 500}) a block of
    them (a chunk of frames of a long rollout)."""
    path = Path(path)
    sizes = {np.shape(v)[0] for v in values.values()}
    if len(sizes) != 1:
        raise DataError(f"variables must hold the same number of samples (got {sizes})")
    count = sizes.pop()
    for name, array in values.items():
        array = np.ascontiguousarray(array)
        if store_format(path) == "netcdf":
            write_netcdf_region(path, name, start, array, offsets)
        else:
            write_zarr_region(path, name, start, array, offsets)
    return range(start, start + count)


def update_attrs(path: str | os.PathLike, attrs: Mapping[str, Any]) -> None:
    """Set global attrs (str/int/float) of an existing store; zarr metadata is
    re-consolidated so plain `xr.open_zarr` sees them."""
    path = Path(path)
    if store_format(path) == "netcdf":
        with netCDF4.Dataset(path, mode="a") as nc:
            nc.setncatts(dict(attrs))
        return
    group = zarr.open_group(store=str(path), mode="r+", zarr_format=3)
    group.attrs.update(dict(attrs))
    consolidate(path)
