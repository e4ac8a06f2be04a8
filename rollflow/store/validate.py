"""Checks that a dataset is a rollflow trajectory store consistent with its own spec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from rollflow.conventions import (
    FORMAT_ATTR, FORMAT_NAME, FORMAT_VERSION, GRID_ATTR, GRID_NODES, SAMPLE,
    SPEC_ATTR_PREFIX, TIME, TRAJECTORY_DIMS, VORTICITY, X, Y,
)
from rollflow.errors import SpecError, StoreError
from rollflow.specs import FlowSpec
from rollflow.store.dataset import VERSION_ATTR

__all__ = ["validate_dataset", "spec_from_attrs", "spec_differences", "check_whole",
           "COMPLETED", "CHECK_PREFIX"]

COMPLETED = "completed"  # int8 per sample: 1 once all its frames are written
CHECK_PREFIX = "check_"  # per-sample physics checks recorded at write time (store.checks)


def spec_from_attrs(attrs: Mapping[str, Any], where: str = "dataset") -> FlowSpec:
    """The FlowSpec of a rollflow store's attrs; StoreError if the attrs are foreign."""
    if attrs.get(FORMAT_ATTR) != FORMAT_NAME:
        raise StoreError(f"{where} is not a rollflow store (attr {FORMAT_ATTR!r} is "
                         f"{attrs.get(FORMAT_ATTR)!r}, expected {FORMAT_NAME!r})")
    version = attrs.get(VERSION_ATTR)
    if version is None or int(version) > FORMAT_VERSION:
        raise StoreError(f"{where} has {VERSION_ATTR} {version!r}; this rollflow reads "
                         f"versions ≤ {FORMAT_VERSION}")
    try:
        return FlowSpec.from_attrs(attrs)
    except SpecError as err:
        raise StoreError(f"{where}: {err}") from None


def spec_differences(stored: FlowSpec, requested: FlowSpec) -> list[str]:
    """`flow_<field> (stored vs requested)` for every field that differs."""
    a, b = stored.to_attrs(), requested.to_attrs()
    return [f"{key} ({a[key]!r} vs {b[key]!r})" for key in a if a[key] != b[key]]


def _check_coord(ds: xr.Dataset, dim: str, expected: np.ndarray, what: str) -> None:
    values = np.asarray(ds[dim].values)
    if values.shape != expected.shape or not np.allclose(values, expected, rtol=1e-9,
                                                         atol=1e-12):
        raise StoreError(f"coordinate {dim!r} does not match the spec's {what}")


def _check_vorticity(ds: xr.Dataset) -> None:
    if VORTICITY not in ds.data_vars:
        raise StoreError(f"no {VORTICITY!r} variable (variables: {', '.join(ds.data_vars)})")
    var = ds[VORTICITY]
    if var.dims != TRAJECTORY_DIMS:
        if set(var.dims) == set(TRAJECTORY_DIMS):
            raise StoreError(f"{VORTICITY} dims are in the wrong order {var.dims}; expected "
                             f"{TRAJECTORY_DIMS}")
        raise StoreError(f"{VORTICITY} has dims {var.dims}; expected {TRAJECTORY_DIMS}")
    if not np.issubdtype(var.dtype, np.floating):
        raise StoreError(f"{VORTICITY} has dtype {var.dtype}; expected floating point")
    for dim in TRAJECTORY_DIMS:
        if dim not in ds.coords:
            raise StoreError(f"missing coordinate {dim!r}")


def _check_grid(ds: xr.Dataset, spec: FlowSpec) -> None:
    n = spec.output_size
    for dim in (X, Y):
        if ds.sizes[dim] != n:
            raise StoreError(f"grid size differs from the spec: {dim} has {ds.sizes[dim]} "
                             f"points, {SPEC_ATTR_PREFIX}output_size is {n}")
        _check_coord(ds, dim, np.arange(n) * (spec.domain_size / n), "grid nodes j·L/n")


def _check_time_and_samples(ds: xr.Dataset, spec: FlowSpec) -> None:
    frames = np.asarray(ds[TIME].values, dtype=np.float64) / spec.save_interval
    on_grid = np.allclose(frames, np.round(frames), atol=1e-6)
    in_span = frames.min(initial=0) >= -1e-6 and frames.max(initial=0) <= spec.num_frames - 0.5
    if not (on_grid and in_span):
        raise StoreError(f"time coordinates are not multiples of save_interval = "
                         f"{spec.save_interval} within the {spec.num_frames} saved frames")
    samples = np.asarray(ds[SAMPLE].values)
    if not np.issubdtype(samples.dtype, np.integer) or samples.size and (
            samples.min() < 0 or samples.max() >= spec.num_samples):
        raise StoreError(f"sample coordinates must be integers in 0…{spec.num_samples - 1}")


def check_whole(ds: xr.Dataset, spec: FlowSpec) -> None:
    """A store on disk holds exactly the spec's samples and frames: its attrs are checked
    against its arrays, so an edited `flow_num_frames` or `flow_num_samples` is caught."""
    for dim, count, name in ((SAMPLE, spec.num_samples, "num_samples"),
                             (TIME, spec.num_frames, "num_frames")):
        if ds.sizes.get(dim) != count:
            raise StoreError(f"attrs say {SPEC_ATTR_PREFIX}{name} = {count} but the arrays "
                             f"hold {ds.sizes.get(dim)} along {dim!r} (edited attrs?)")
    _check_coord(ds, TIME, np.arange(spec.num_frames) * spec.save_interval,
                 "frame times k·save_interval")
    _check_coord(ds, SAMPLE, np.arange(spec.num_samples), "sample indices 0…num_samples−1")


def validate_dataset(ds: xr.Dataset, *, require_complete: bool = True,
                     whole: bool = False) -> FlowSpec:
    """Check `ds` against the spec in its attrs and return that spec.

    Checks: the format marker and version; the spec attrs; the grid convention; a
    `vorticity` variable with dims exactly (sample, time, x, y), floating dtype and all
    four coordinates; x/y sizes equal to the spec's output_size with coordinates at the
    nodes j·L/n; time coordinates on multiples of save_interval within the saved frames;
    sample indices inside 0 … num_samples − 1; and, if a `completed` flag is present and
    `require_complete`, that every sample is finished. A subset of samples or frames
    (e.g. `isel`) stays valid unless `whole` (a store as written: `check_whole`).

    Raises StoreError saying what is wrong.
    """
    spec = spec_from_attrs(ds.attrs)
    if ds.attrs.get(GRID_ATTR) != GRID_NODES:
        raise StoreError(f"attr {GRID_ATTR!r} must be {GRID_NODES!r} "
                         f"(got {ds.attrs.get(GRID_ATTR)!r})")
    _check_vorticity(ds)
    _check_grid(ds, spec)
    _check_time_and_samples(ds, spec)
    if whole:
        check_whole(ds, spec)
    if require_complete and COMPLETED in ds.data_vars:
        done = np.asarray(ds[COMPLETED].values).astype(bool)
        if not done.all():
            raise StoreError(f"store is incomplete: {int(done.sum())} of {done.size} samples "
                             "are written; re-run `rollflow simulate` with the same config "
                             "to resume")
    return spec
