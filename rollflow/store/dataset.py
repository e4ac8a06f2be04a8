"""numpy + `FlowSpec` → an `xr.Dataset` of vorticity trajectories (no file I/O here).

Layout (see rollflow.conventions):

    vorticity (sample, time, x, y) float32, units 1/t.u.
    sample    int64 trajectory index i (its initial state depends only on (spec, i))
    time      float64, k · save_interval, t.u. since the end of warm-up (first frame at 0)
    x, y      float64 grid nodes j · L / n, j = 0 … n−1 (left end included), n = output_size

Global attrs hold the spec (`flow_<field>`, exact round trip via `FlowSpec.from_attrs`),
the format marker, the grid convention, derived solver quantities and provenance (package
versions, seed, creating command, UTC creation time). Attr values are str, int or float
only, so they survive netCDF and zarr unchanged.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from rollflow.conventions import (
    FORMAT_ATTR, FORMAT_NAME, FORMAT_VERSION, GRID_ATTR, GRID_NODES, SAMPLE,
    SPEC_ATTR_PREFIX, TIME, TIME_UNITS, TRAJECTORY_DIMS, VORTICITY, X, Y,
)
from rollflow.errors import DataError, StoreError
from rollflow.specs import FlowSpec

__all__ = [
    "trajectories_to_dataset", "trajectory_coords", "dataset_attrs", "VERSION_ATTR",
    "VORTICITY_ATTRS",
]

VERSION_ATTR = "rollflow_format_version"
_PACKAGES = ("rollflow", "numpy", "xarray", "zarr", "netCDF4", "dask", "jax", "jaxlib",
             "jax-cfd")

VORTICITY_ATTRS = {
    "long_name": "vorticity",
    "description": "z-component of the curl of velocity, ω = ∂v/∂x − ∂u/∂y",
    "units": "1/" + TIME_UNITS,
}


def _package_versions() -> dict[str, str]:
    """`version_<package>` → installed version, read from metadata (nothing is imported)."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions["version_" + name.replace("-", "_")] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _check_attr_values(attrs: Mapping[str, Any]) -> None:
    for key, value in attrs.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise StoreError(f"attr {key!r} must be a str, int or float "
                             f"(got {type(value).__name__}); netCDF and zarr store no other types")


BACKEND_NAMES = {"jaxcfd": "jax-cfd", "exponax": "exponax"}
"""FlowSpec.backend → the solver's name in attrs and labels."""


def dataset_attrs(spec: FlowSpec, *, attrs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Global attrs of a trajectory dataset for `spec`.

    `attrs` (e.g. `command`, `config`, or a fixed `created`) are added last and may replace
    provenance entries, but not the spec, format or grid attrs.
    """
    reserved = {**spec.to_attrs(), FORMAT_ATTR: FORMAT_NAME, VERSION_ATTR: FORMAT_VERSION,
                GRID_ATTR: GRID_NODES}
    extra = dict(attrs or {})
    _check_attr_values(extra)
    clash = sorted(k for k in extra if k in reserved or k.startswith(SPEC_ATTR_PREFIX))
    if clash:
        raise StoreError(f"attrs {', '.join(clash)} are reserved for the flow spec and format")
    created = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    return {
        "title": "2D Kolmogorov flow: vorticity trajectories",
        "Conventions": "CF-1.10",
        **reserved,
        "reynolds_number": spec.reynolds_number,
        "seed": spec.seed,
        "solver_time_step": spec.time_step,
        "solver_steps_per_frame": spec.steps_per_frame,
        "source": f"rollflow spectral DNS ({BACKEND_NAMES.get(spec.backend, spec.backend)}), "
                  "spectrally truncated to the output grid",
        **_package_versions(),
        "created": created.isoformat().replace("+00:00", "Z"),
        **extra,
    }


def trajectory_coords(spec: FlowSpec, *, sample_start: int = 0,
                      num_samples: int | None = None) -> dict[str, xr.Variable]:
    """Coordinates for samples [sample_start, sample_start + num_samples) of `spec`.

    `num_samples` defaults to all remaining samples of the spec. Spatial nodes are
    j · L / n on the output grid; times are k · save_interval (t.u.).
    """
    if num_samples is None:
        num_samples = spec.num_samples - sample_start
    n = spec.output_size
    nodes = np.arange(n, dtype=np.float64) * (spec.domain_size / n)

    def axis(name: str, letter: str) -> xr.Variable:
        return xr.Variable(name, nodes.copy(), {
            "long_name": f"{name} (grid node, left end of the periodic domain included)",
            "units": "1", "axis": letter})

    return {
        SAMPLE: xr.Variable(SAMPLE, np.arange(sample_start, sample_start + num_samples,
                                              dtype=np.int64),
                            {"long_name": "trajectory index (seeds its initial state)"}),
        TIME: xr.Variable(TIME, np.arange(spec.num_frames, dtype=np.float64)
                          * spec.save_interval,
                          {"long_name": "time since the end of warm-up", "units": TIME_UNITS,
                           "axis": "T"}),
        X: axis(X, "X"),
        Y: axis(Y, "Y"),
    }


def trajectories_to_dataset(vorticity: np.ndarray, spec: FlowSpec, *, sample_start: int = 0,
                            attrs: dict | None = None) -> xr.Dataset:
    """Wrap solver output as a dataset with dims (sample, time, x, y).

    Args:
        vorticity: array (B, spec.num_frames, spec.output_size, spec.output_size), 1/t.u.;
            stored as float32.
        spec: the flow spec that produced it.
        sample_start: index of the first sample in the batch (samples are
            sample_start … sample_start + B − 1, all < spec.num_samples).
        attrs: extra global attrs (str/int/float), e.g. `command`.

    Raises DataError for a wrong shape or sample range.
    """
    vorticity = np.asarray(vorticity)
    n = spec.output_size
    expected = (spec.num_frames, n, n)
    if vorticity.ndim != 4 or vorticity.shape[1:] != expected:
        raise DataError(f"vorticity must have shape (samples, {', '.join(map(str, expected))}) "
                        f"for this spec (got {vorticity.shape})")
    num = vorticity.shape[0]
    if sample_start < 0 or sample_start + num > spec.num_samples:
        raise DataError(f"samples {sample_start}…{sample_start + num - 1} are outside "
                        f"0…{spec.num_samples - 1} of the spec")
    data = xr.Variable(TRAJECTORY_DIMS, vorticity.astype(np.float32, copy=False),
                       dict(VORTICITY_ATTRS))
    coords = trajectory_coords(spec, sample_start=sample_start, num_samples=num)
    return xr.Dataset({VORTICITY: data}, coords=coords, attrs=dataset_attrs(spec, attrs=attrs))
