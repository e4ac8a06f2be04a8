"""Physics checks recorded in a trajectory store at write time (issue 18).

A store made by `create_store` carries, per sample, five float64 variables next to its
vorticity: `check_budget_residual` (dimensionless), `check_eddy_momentum_flux`
(L²/t.u.²), `check_kinetic_energy` (L²/t.u.²), `check_enstrophy` (1/t.u.²) and
`check_injection` (L²/t.u.³) — the values `rollflow.analysis.budget.physics_checks`
computes from the sample's float32 frames. They are NaN until the sample is written;
generation writes them before it flags the sample complete, so a complete sample always
has them. The physics they were computed with (ν, α, k_f, amplitude, Δt) is in each
variable's attrs (`computed_with_*`), so a reader can tell whether they still describe the
store's spec. The store only keeps the numbers; `rollflow.analysis` computes them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from rollflow.conventions import SAMPLE
from rollflow.errors import DataError
from rollflow.specs import FlowSpec
from rollflow.store.files import open_raw, store_format
from rollflow.store.netcdf_io import read_netcdf_array, write_netcdf_region
from rollflow.store.validate import CHECK_PREFIX
from rollflow.store.zarr_io import read_zarr_array, write_zarr_region

__all__ = ["CHECKS", "CHECK_PREFIX", "check_variables", "write_sample_checks",
           "recorded_checks"]

CHECKS = {
    "budget_residual": ("1", "energy-budget residual as a share of the mean injection"),
    "eddy_momentum_flux": ("L2 t.u.-2", "time mean of 2<u'v' cos(k_f y)>"),
    "kinetic_energy": ("L2 t.u.-2", "time mean of 1/2 <|u|^2>"),
    "enstrophy": ("t.u.-2", "time mean of 1/2 <omega^2>"),
    "injection": ("L2 t.u.-3", "time mean of <u.F>"),
}
"""Check name → (units, long name); stored as `CHECK_PREFIX + name`."""


def _physics(spec: FlowSpec) -> dict[str, float]:
    return {"computed_with_viscosity": spec.viscosity, "computed_with_drag": spec.drag,
            "computed_with_forcing_wavenumber": spec.forcing_wavenumber,
            "computed_with_forcing_amplitude": spec.forcing_amplitude,
            "computed_with_save_interval": spec.save_interval}


def check_variables(spec: FlowSpec) -> dict[str, xr.Variable]:
    """The NaN-filled (sample,) float64 variables of a new store for `spec`."""
    return {CHECK_PREFIX + name: xr.Variable(
                (SAMPLE,), np.full(spec.num_samples, np.nan),
                {"units": units, "long_name": long_name,
                 "description": "physics check recorded at write time (NaN: not written)",
                 **_physics(spec)})
            for name, (units, long_name) in CHECKS.items()}


def write_sample_checks(path: str | os.PathLike, sample_start: int,
                        checks: Mapping[str, np.ndarray]) -> bool:
    """Write the checks of samples sample_start … sample_start + B − 1 (each a (B,) array,
    keys as in CHECKS). Returns False, writing nothing, for a store made before checks
    were recorded. DataError for missing keys, wrong shapes or non-finite values."""
    path = Path(path)
    missing = sorted(set(CHECKS) - set(checks))
    if missing:
        raise DataError(f"physics checks lack {', '.join(missing)}")
    values = {name: np.asarray(checks[name], np.float64).reshape(-1) for name in CHECKS}
    sizes = {v.size for v in values.values()}
    if len(sizes) != 1:
        raise DataError(f"physics checks of one batch differ in length ({sorted(sizes)})")
    if not all(np.isfinite(v).all() for v in values.values()):
        raise DataError(f"refusing to record non-finite physics checks for samples "
                        f"{sample_start}…{sample_start + sizes.pop() - 1}")
    netcdf = store_format(path) == "netcdf"
    read = read_netcdf_array if netcdf else read_zarr_array
    if read(path, CHECK_PREFIX + "injection") is None:
        return False
    write = write_netcdf_region if netcdf else write_zarr_region
    for name, value in values.items():
        write(path, CHECK_PREFIX + name, sample_start, value)
    return True


def recorded_checks(path: str | os.PathLike, spec: FlowSpec,
                    samples: np.ndarray) -> xr.Dataset | None:
    """The recorded checks of `samples` (indices), named as in CHECKS (dims `sample`), or
    None when the store has none, one of them is unwritten, or they were computed with
    other physics than `spec` says (then the caller computes them afresh)."""
    with open_raw(path) as ds:
        names = [CHECK_PREFIX + name for name in CHECKS]
        if not all(name in ds.variables for name in names):
            return None
        if any(ds[name].attrs.get(key) != value for name in names
               for key, value in _physics(spec).items()):
            return None
        picked = ds[names].isel({SAMPLE: np.asarray(samples, int)}).load()
    if not all(np.isfinite(picked[name].values).all() for name in names):
        return None
    return picked.rename({CHECK_PREFIX + name: name for name in CHECKS})
