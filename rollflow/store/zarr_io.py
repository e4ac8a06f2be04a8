"""Zarr v3 directory stores: whole-dataset writes, lazy opens and region writes.

Metadata is consolidated once, when a store is written (`consolidate`): plain
`xr.open_zarr(path)` in a notebook then opens it without a warning. Nothing later changes
the metadata — region writes of resumable generation touch data chunks only, attrs are
written at creation — so the consolidated copy stays exact. rollflow itself opens stores
with `consolidated=False` (reads the per-array metadata; the store is local and small).
Region writes go through zarr directly; with one sample per chunk they rewrite only the
chunks of the samples written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import warnings

import numpy as np
import xarray as xr
import zarr
import zarr.errors

from rollflow.errors import StoreError
from rollflow.store.encoding import chunk_shape, region_slices, zarr_encoding

__all__ = ["is_zarr_store", "write_zarr", "open_zarr", "write_zarr_region", "read_zarr_array",
           "consolidate"]


def is_zarr_store(path: Path) -> bool:
    """True if `path` is a directory holding zarr (v2 or v3) group metadata."""
    return path.is_dir() and ((path / "zarr.json").is_file() or (path / ".zgroup").is_file())


def write_zarr(ds: xr.Dataset, path: Path, *, compute: bool = True) -> None:
    """Write `ds` to a new zarr v3 store at `path` (which must not exist).

    Fixed-width unicode variables (e.g. a `model` coordinate) are stored as variable-length
    strings, which zarr v3 supports without an "unstable specification" warning; they
    read back as numpy StringDType. Dask-backed variables are rechunked to the store's
    chunks first. With
    `compute=False`, only metadata and numpy-backed variables (coordinates) are written;
    dask-backed variables stay unwritten and read as their fill value.
    """
    ds = ds.copy()
    for name, var in list(ds.variables.items()):
        var.encoding = {}
        if var.dtype.kind == "U":
            ds[name] = var.astype(object)
        if var.chunks is not None and name in ds.data_vars:
            chunks = chunk_shape(name, var.dims, var.shape)
            ds[name] = ds[name].chunk(dict(zip(var.dims, chunks)))
    ds.to_zarr(path, mode="w-", encoding=zarr_encoding(ds), consolidated=False,
               zarr_format=3, compute=compute)
    consolidate(path)


def consolidate(path: Path) -> None:
    """Write consolidated metadata into the root zarr.json (zarr v3 warns that this is
    outside its specification; the warning is expected and silenced here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
        zarr.consolidate_metadata(str(path), zarr_format=3)


def open_zarr(path: Path) -> xr.Dataset:
    """Open a zarr store lazily (dask arrays, one dask chunk per zarr chunk)."""
    try:
        return xr.open_zarr(path, consolidated=False, zarr_format=3)
    except (zarr.errors.BaseZarrError, FileNotFoundError, KeyError, ValueError) as err:
        raise StoreError(f"{path} is not a readable zarr v3 store ({err})") from None


def _open_array(path: Path, name: str) -> zarr.Array:
    try:
        return zarr.open_array(store=str(path), path=name, mode="r+", zarr_format=3)
    except (zarr.errors.BaseZarrError, FileNotFoundError, KeyError) as err:
        raise StoreError(f"{path}: no zarr array {name!r} ({err})") from None


def write_zarr_region(path: Path, name: str, start: int, values: np.ndarray,
                      offsets: Mapping[str, int] | None = None) -> None:
    """Write `values` into array `name` at [start : start + len(values)] along axis 0 and,
    for each named dim in `offsets`, at [offset : offset + its length] along that dim."""
    array = _open_array(path, name)
    array[region_slices(tuple(array.metadata.dimension_names or ()), start, values.shape,
                  offsets or {}, f"{path}:{name}")] = values



def read_zarr_array(path: Path, name: str) -> np.ndarray | None:
    """The whole array `name`, or None if the store has no such array."""
    group = zarr.open_group(store=str(path), mode="r", zarr_format=3)
    if name not in group.array_keys():
        return None
    return np.asarray(group[name][...])
