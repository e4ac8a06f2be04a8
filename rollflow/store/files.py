"""Opening and saving datasets by path: zarr directory by default, netCDF4 for `.nc`.

Every write goes to a hidden temporary path beside the target and is renamed into place,
so an interrupted write never leaves a half-made store under the real name.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from rollflow.errors import StoreError
from rollflow.specs import FlowSpec
from rollflow.store.netcdf_io import NETCDF_SUFFIXES, open_netcdf, write_netcdf
from rollflow.store.validate import CHECK_PREFIX, COMPLETED, check_whole, spec_from_attrs, validate_dataset
from rollflow.store.zarr_io import is_zarr_store, open_zarr, write_zarr

__all__ = ["store_format", "open_trajectories", "read_spec", "save_dataset", "remove_store",
           "publish", "open_raw"]

Format = Literal["zarr", "netcdf"]


def store_format(path: str | os.PathLike) -> Format:
    """"netcdf" for a .nc/.nc4/.netcdf suffix, else "zarr"."""
    return "netcdf" if Path(path).suffix.lower() in NETCDF_SUFFIXES else "zarr"


def _plain(value: Any) -> Any:
    """numpy scalars (as netCDF returns attrs) → Python int/float/str."""
    return value.item() if isinstance(value, np.generic) else value


def _normalise_attrs(ds: xr.Dataset) -> xr.Dataset:
    ds.attrs = {k: _plain(v) for k, v in ds.attrs.items()}
    for var in ds.variables.values():
        var.attrs = {k: _plain(v) for k, v in var.attrs.items()}
    return ds


def open_raw(path: str | os.PathLike) -> xr.Dataset:
    """Open any store written by rollflow lazily, `completed` flag included (StoreError
    for a missing or foreign path)."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"no such store: {path}")
    if store_format(path) == "netcdf":
        return _normalise_attrs(open_netcdf(path))
    if not is_zarr_store(path):
        raise StoreError(f"{path} is not a zarr store (no zarr.json); a netCDF file needs "
                         f"a suffix {'/'.join(NETCDF_SUFFIXES)}")
    return _normalise_attrs(open_zarr(path))


def open_trajectories(path: str | os.PathLike, *, validate: bool = True,
                      allow_incomplete: bool = False) -> xr.Dataset:
    """Open a trajectory store lazily (dask arrays); the `completed` flag and the recorded
    physics checks (`store.checks.recorded_checks` reads them) are dropped.

    With `validate`, the dataset is checked by `validate_dataset` (an unfinished store is
    an error unless `allow_incomplete`; its unwritten samples read as NaN). Without it,
    any dataset written by `save_dataset` opens (e.g. forecasts with member/model dims).
    Raises StoreError for a missing, foreign or inconsistent path. netCDF files stay open
    until the dataset is closed.
    """
    ds = open_raw(path)
    if validate:
        try:
            validate_dataset(ds, require_complete=not allow_incomplete, whole=True)
        except StoreError as err:
            ds.close()
            raise StoreError(f"{path}: {err}") from None
    recorded = [name for name in ds.data_vars if name.startswith(CHECK_PREFIX)]
    trajectories = ds.drop_vars([COMPLETED, *recorded], errors="ignore")
    trajectories.set_close(ds.close)  # closing the result releases the file
    return trajectories


def read_spec(path: str | os.PathLike) -> FlowSpec:
    """The FlowSpec stored in the attrs of a trajectory store, checked against its arrays
    (sizes and coordinates; StoreError if edited attrs disagree with the data)."""
    with open_raw(path) as ds:
        spec = spec_from_attrs(ds.attrs, where=str(path))
        try:
            check_whole(ds, spec)
        except StoreError as err:
            raise StoreError(f"{path}: {err}") from None
        return spec


def _removable(path: Path) -> bool:
    return (store_format(path) == "netcdf" and path.is_file()) or is_zarr_store(path)


def remove_store(path: Path) -> None:
    """Delete a zarr store directory or a netCDF file; refuse anything else."""
    if not _removable(path):
        raise StoreError(f"refusing to delete {path}: it is neither a zarr store nor a "
                         f"netCDF file")
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def _sibling(path: Path, tag: str) -> Path:
    """Hidden path beside `path` keeping its suffix, e.g. `.run.partial-42.zarr`."""
    return path.with_name(f".{path.stem}.{tag}-{os.getpid()}{path.suffix}")


def _discard(own: Path) -> None:
    """Delete a temporary path this process made (it may be half-written)."""
    if own.is_dir():
        shutil.rmtree(own)
    elif own.exists():
        own.unlink()


def publish(path: str | os.PathLike, write: Callable[[Path], None], *,
            overwrite: bool = False) -> None:
    """Run `write(tmp)` on a temporary path beside `path`, then rename it to `path`.

    An existing `path` is an error unless `overwrite`, in which case it is replaced only
    after the new data is complete. Unusable locations raise StoreError.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise StoreError(f"{path} already exists; use --overwrite to replace it")
    if path.exists() and not _removable(path):
        raise StoreError(f"refusing to replace {path}: it is neither a zarr store nor a "
                         f"netCDF file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"cannot create {path}: {err.strerror or err}") from None
    if not os.access(path.parent, os.W_OK):
        raise StoreError(f"cannot create {path}: directory {path.parent} is not writable")
    tmp, old = _sibling(path, "partial"), _sibling(path, "old")
    for leftover in (tmp, old):  # left by an earlier process with the same pid
        _discard(leftover)
    try:
        write(tmp)
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    except OSError as err:  # an unusable place: name the user's path, not the temporary
        _discard(tmp)
        raise StoreError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        _discard(tmp)
        raise
    _discard(old)


def save_dataset(ds: xr.Dataset, path: str | os.PathLike, *, overwrite: bool = False) -> None:
    """Write any dataset (trajectories, forecasts with member/model dims, …) to `path`.

    Zarr v3 directory by default, netCDF4 for a .nc suffix; chunking and compression from
    rollflow.store.encoding. Attr values must be str, int or float (or numpy scalars).
    """
    if store_format(path) == "netcdf":
        publish(path, lambda tmp: write_netcdf(ds, tmp), overwrite=overwrite)
    else:
        publish(path, lambda tmp: write_zarr(ds, tmp), overwrite=overwrite)
