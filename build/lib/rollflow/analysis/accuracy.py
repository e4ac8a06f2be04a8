"""Pointwise accuracy of a forecast against the truth: vorticity correlation and RMSE.

Prediction and truth are DataArrays with named dims; dims they share must have identical
sizes and coordinates (nothing is dropped by an inner join), and dims only one of them has
broadcast — e.g. a prediction with a `member` or `model` dim against a truth without it.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rollflow.analysis._checks import align_exact, as_dims, require_dims, require_finite
from rollflow.conventions import X, Y
from rollflow.errors import DataError

__all__ = ["vorticity_correlation", "rmse", "check_pair"]


def check_pair(prediction: xr.DataArray, truth: xr.DataArray,
               dims: tuple[str, ...]) -> None:
    """Both must have `dims`, matching shared coordinates and finite values (DataError)."""
    require_dims(prediction, dims, "prediction")
    require_dims(truth, dims, "truth")
    align_exact(prediction, truth, ("prediction", "truth"))
    require_finite(prediction, "prediction")
    require_finite(truth, "truth")


def vorticity_correlation(prediction: xr.DataArray, truth: xr.DataArray, *,
                          dims: str | tuple[str, ...] = (X, Y)) -> xr.DataArray:
    """Pattern correlation ρ = ⟨ω_p ω_t⟩ / sqrt(⟨ω_p²⟩⟨ω_t²⟩) over `dims` (uncentred).

    Args:
        prediction: predicted vorticity, e.g. (sample, member, time, x, y).
        truth: true vorticity, e.g. (sample, time, x, y); shared coords must match.
        dims: dims the inner product runs over (default the spatial dims x, y).

    Returns:
        ρ in [−1, 1] (dimensionless) with `dims` reduced: 1 for identical fields, −1 for
        negated ones; NaN where either field is identically zero.
    """
    dims = as_dims(dims)
    check_pair(prediction, truth, dims)
    pred = prediction.astype(np.result_type(prediction.dtype, np.float64))
    true = truth.astype(np.result_type(truth.dtype, np.float64))
    numerator = (pred * true).mean(dims)
    denominator = np.sqrt((pred ** 2).mean(dims) * (true ** 2).mean(dims))
    rho = numerator / denominator.where(denominator > 0)
    return rho.rename("vorticity_correlation").assign_attrs(units="1")


def rmse(prediction: xr.DataArray, truth: xr.DataArray, *,
         mean_dims: str | tuple[str, ...] = (X, Y)) -> xr.DataArray:
    """Root-mean-square error sqrt(mean over `mean_dims` of (prediction − truth)²).

    Pass e.g. mean_dims=("sample", "x", "y") for RMSE vs lead time over a test set. Units
    are those of the inputs (1/t.u. for vorticity).
    """
    mean_dims = as_dims(mean_dims)
    check_pair(prediction, truth, ())
    missing = [d for d in mean_dims if d not in prediction.dims and d not in truth.dims]
    if missing:
        raise DataError(f"prediction and truth have no dim {', '.join(map(repr, missing))} "
                        "to average over")
    err = np.sqrt(((prediction - truth) ** 2).mean(mean_dims))
    return err.rename("rmse").assign_attrs(units=truth.attrs.get("units", ""))
