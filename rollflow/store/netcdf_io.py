"""netCDF4 (HDF5) files: whole-dataset writes via xarray, region writes via netCDF4.

xarray's `to_netcdf` cannot write a region of an existing file, so batches of samples are
written with the netCDF4 library in append mode. HDF5 is not crash-safe: a process killed
by a signal *while* a batch is being written can corrupt the file (an ordinary
KeyboardInterrupt between batches cannot). Prefer zarr for long generation runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from rollflow.errors import StoreError
from rollflow.store.encoding import netcdf_encoding, region_slices

__all__ = ["NETCDF_SUFFIXES", "write_netcdf", "open_netcdf", "write_netcdf_region",
           "read_netcdf_array"]

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf")


def write_netcdf(ds: xr.Dataset, path: Path) -> None:
    """Write `ds` to a new netCDF4 file at `path` (zlib-compressed, chunked)."""
    ds = ds.copy()
    for var in ds.variables.values():
        var.encoding = {}
    ds.to_netcdf(path, mode="w", format="NETCDF4", engine="netcdf4",
                 encoding=netcdf_encoding(ds))


def open_netcdf(path: Path) -> xr.Dataset:
    """Open a netCDF file lazily (dask arrays chunked like the file)."""
    try:
        return xr.open_dataset(path, engine="netcdf4", chunks={})
    except (OSError, ValueError, KeyError) as err:
        raise StoreError(f"{path} is not a readable netCDF4 file ({err})") from None


def write_netcdf_region(path: Path, name: str, start: int, values: np.ndarray,
                        offsets: Mapping[str, int] | None = None) -> None:
    """Write `values` into variable `name` at [start : start + len(values)] along axis 0
    and at each named dim's offset in `offsets` (as `zarr_io.write_zarr_region`)."""
    with netCDF4.Dataset(path, mode="a") as nc:
        if name not in nc.variables:
            raise StoreError(f"{path}: no variable {name!r}")
        var = nc.variables[name]
        var.set_auto_maskandscale(False)
        var[region_slices(tuple(var.dimensions), start, values.shape, offsets or {},
                    f"{path}:{name}")] = values
        nc.sync()


def read_netcdf_array(path: Path, name: str) -> np.ndarray | None:
    """The whole variable `name` (no masking), or None if the file has no such variable."""
    with netCDF4.Dataset(path, mode="r") as nc:
        if name not in nc.variables:
            return None
        var = nc.variables[name]
        var.set_auto_maskandscale(False)
        return np.asarray(var[...])
