"""Lyapunov-style divergence: relative separation of twin runs or ensemble members, and
the exponential growth rate fitted over its linear (in log) regime.

Relative separation r(t), over the spatial dims:
- twins (reference a, perturbed b):  r = ‖b − a‖ / ‖a‖;
- an ensemble of M ≥ 2 members:      r = sqrt(mean_{i≠j} ‖ω_i − ω_j‖²) / sqrt(mean_i ‖ω_i‖²),
  which equals the twin formula for M = 2 (up to which member is the reference) and tends
  to √2 for fully decorrelated members of equal energy.

Growth fit (per curve, along `dim`), found automatically:
1. saturation level S = median of r over the last `tail_fraction` of the curve;
2. the fit window ends at the last time before r first reaches `upper_fraction` · S
   (nonlinear saturation sets in above it) and starts at the minimum of r before that end
   (a random perturbation first decays while it aligns with the growing directions);
   leading points that still lie off the fitted line (residual > 3× the RMS residual of
   the rest; the alignment transient) are dropped, at most half of the window;
3. least squares of ln r on t over the window → growth rate λ (1/t.u.; the leading
   Lyapunov exponent for infinitesimal twin perturbations), intercept and R²;
4. predictability time = first time r reaches `predictability_fraction` · S (linear
   interpolation in ln r; +inf if never), Lyapunov time = 1/λ.
A window with fewer than `min_points` points gives NaN for the fit values.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rollflow.analysis._checks import (
    align_exact, as_dims, require_dims, require_finite, single_chunk,
)
from rollflow.conventions import MEMBER, TIME, X, Y
from rollflow.errors import DataError

__all__ = ["relative_separation", "fit_growth", "separation_growth", "growth_fit_kernel"]

_FIT_FIELDS = ("growth_rate", "fit_intercept", "r_squared", "fit_start", "fit_end",
               "saturation", "predictability_time")


def relative_separation(reference: xr.DataArray, perturbed: xr.DataArray | None = None, *,
                        member_dim: str = MEMBER,
                        dims: str | tuple[str, ...] = (X, Y)) -> xr.DataArray:
    """Relative separation ‖δω‖/‖ω‖ over `dims` of twins, or of an ensemble along member_dim.

    Args:
        reference: vorticity, e.g. (pair, time, x, y); or an ensemble (…, member, time, x, y)
            when `perturbed` is None.
        perturbed: the twin of `reference`, same dims and coords.
        member_dim: ensemble dim (used only when `perturbed` is None).
        dims: dims of the norm (default x, y).

    Returns:
        r ≥ 0 (dimensionless) with `dims` (and the member dim) reduced.
    """
    dims = as_dims(dims)
    require_dims(reference, dims, "reference")
    require_finite(reference, "reference")
    ref = reference.astype(np.result_type(reference.dtype, np.float64))
    if perturbed is not None:
        require_dims(perturbed, dims, "perturbed")
        align_exact(reference, perturbed, ("reference", "perturbed"))
        require_finite(perturbed, "perturbed")
        delta = perturbed.astype(ref.dtype) - ref
        return (np.sqrt((delta ** 2).sum(dims) / (ref ** 2).sum(dims))
                .rename("relative_separation"))
    require_dims(reference, member_dim, "ensemble")
    if reference.sizes[member_dim] < 2:
        raise DataError(f"an ensemble needs at least 2 members along {member_dim!r}")
    pair_mean = 2 * ref.var(member_dim, ddof=1).sum(dims)
    norm = (ref ** 2).sum(dims).mean(member_dim)
    return np.sqrt(pair_mean / norm).rename("relative_separation")


def _trim_start(t: np.ndarray, y: np.ndarray, min_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop leading points off the fitted line (> 3× the RMS residual of the rest), at most
    half the window: the alignment transient right after the perturbation."""
    limit = max(min_points, (t.size + 1) // 2)
    while t.size > limit:
        slope, intercept = np.polyfit(t, y, 1)
        residual = y - (slope * t + intercept)
        if abs(residual[0]) <= 3 * np.sqrt(np.mean(residual[1:] ** 2)):
            break
        t, y = t[1:], y[1:]
    return t, y


def _fit_one(times: np.ndarray, r: np.ndarray, upper_fraction: float, tail_fraction: float,
             predictability_fraction: float, min_points: int,
             window: tuple[float, float] | None) -> list[float]:
    log_r = np.log(r)
    tail = max(1, int(np.ceil(tail_fraction * r.size)))
    saturation = float(np.median(r[-tail:]))
    if window is None:
        above = np.nonzero(r >= upper_fraction * saturation)[0]
        end = (above[0] - 1) if above.size else r.size - 1
        start = int(np.argmin(log_r[: end + 1])) if end >= 0 else 0
        inside = np.zeros(r.size, dtype=bool)
        inside[start: end + 1] = True
    else:
        inside = (times >= window[0]) & (times <= window[1])
    fit = [np.nan, np.nan, np.nan, np.nan, np.nan]
    if inside.sum() >= min_points:
        t, y = times[inside], log_r[inside]
        if window is None:
            t, y = _trim_start(t, y, min_points)
        slope, intercept = np.polyfit(t, y, 1)
        residual = y - (slope * t + intercept)
        total = np.sum((y - y.mean()) ** 2)
        r2 = 1.0 - np.sum(residual ** 2) / total if total > 0 else np.nan
        fit = [slope, intercept, r2, t[0], t[-1]]
    level = np.log(predictability_fraction * saturation)
    reached = np.nonzero(log_r >= level)[0]
    if not reached.size:
        t_pred = np.inf
    elif reached[0] == 0:
        t_pred = times[0]
    else:
        i = reached[0]
        frac = (level - log_r[i - 1]) / (log_r[i] - log_r[i - 1])
        t_pred = times[i - 1] + frac * (times[i] - times[i - 1])
    return fit + [saturation, float(t_pred)]


def growth_fit_kernel(curves: np.ndarray, times: np.ndarray, upper_fraction: float,
                      tail_fraction: float, predictability_fraction: float, min_points: int,
                      window: tuple[float, float] | None) -> tuple[np.ndarray, ...]:
    """Fit every curve (..., T) → 7 arrays (...) in the order of `_FIT_FIELDS`."""
    lead = curves.shape[:-1]
    flat = curves.reshape(-1, curves.shape[-1])
    rows = np.array([_fit_one(times, c, upper_fraction, tail_fraction,
                              predictability_fraction, min_points, window) for c in flat],
                    dtype=float).reshape(*lead, len(_FIT_FIELDS))
    return tuple(rows[..., i] for i in range(len(_FIT_FIELDS)))


def fit_growth(separation: xr.DataArray, *, dim: str = TIME, upper_fraction: float = 0.1,
               tail_fraction: float = 0.25, predictability_fraction: float = 0.5,
               min_points: int = 4, window: tuple[float, float] | None = None) -> xr.Dataset:
    """Fit exponential growth r ∝ exp(λ t) to separation curves (see the module docstring).

    Args:
        separation: r > 0 with dim `dim` and a time coordinate (t.u.).
        upper_fraction: the window ends below this fraction of the saturation level.
        tail_fraction: fraction of the curve's end used for the saturation level.
        predictability_fraction: r / saturation defining the predictability time.
        min_points: fewest points a fit window may have.
        window: explicit (t_start, t_end) in t.u. instead of the automatic window.

    Returns:
        Dataset with the curve (`separation`) and, per curve, `growth_rate` λ (1/t.u.),
        `lyapunov_time` 1/λ (t.u.), `fit_intercept` (ln r at t = 0 of the fitted line, so
        the fit is exp(intercept + λ t)), `r_squared`, `fit_start`, `fit_end` (t.u.),
        `saturation` and `predictability_time` (t.u.).
    """
    require_dims(separation, dim, "separation")
    if dim not in separation.coords:
        raise DataError(f"separation needs a {dim!r} coordinate holding the times")
    require_finite(separation, "separation")
    if bool((separation <= 0).any()):
        raise DataError("separation must be > 0 at every time (identical twins?)")
    if not (0 < upper_fraction <= 1 and 0 < tail_fraction <= 1 and predictability_fraction > 0):
        raise DataError("upper_fraction and tail_fraction must be in (0, 1], "
                        "predictability_fraction > 0")
    times = np.asarray(separation[dim].values, dtype=float)
    outputs = xr.apply_ufunc(
        growth_fit_kernel, single_chunk(separation, [dim]),
        input_core_dims=[[dim]], output_core_dims=[[]] * len(_FIT_FIELDS),
        kwargs={"times": times, "upper_fraction": upper_fraction,
                "tail_fraction": tail_fraction, "min_points": min_points,
                "predictability_fraction": predictability_fraction, "window": window},
        dask="parallelized", output_dtypes=[float] * len(_FIT_FIELDS))
    result = xr.Dataset(dict(zip(_FIT_FIELDS, outputs)))
    result["separation"] = separation.rename(None)
    result["lyapunov_time"] = 1.0 / result.growth_rate
    result.growth_rate.attrs["units"] = "1/t.u."
    for name in ("lyapunov_time", "fit_start", "fit_end", "predictability_time"):
        result[name].attrs["units"] = "t.u."
    result.attrs.update(upper_fraction=upper_fraction, tail_fraction=tail_fraction,
                        predictability_fraction=predictability_fraction,
                        window="automatic" if window is None else f"{window[0]}–{window[1]}")
    return result


def separation_growth(reference: xr.DataArray, perturbed: xr.DataArray | None = None, *,
                      member_dim: str = MEMBER, dim: str = TIME,
                      dims: str | tuple[str, ...] = (X, Y), upper_fraction: float = 0.1,
                      tail_fraction: float = 0.25, predictability_fraction: float = 0.5,
                      min_points: int = 4,
                      window: tuple[float, float] | None = None) -> xr.Dataset:
    """Relative separation of twins (or an ensemble) vs time and its fitted growth rate.

    `relative_separation(reference, perturbed, member_dim=…, dims=…)` followed by
    `fit_growth(…, dim=dim, …)` with the remaining keywords; see both for the arguments.
    Returns the Dataset of `fit_growth`: `separation` curve, `growth_rate`,
    `lyapunov_time`, `fit_start`, `fit_end`, `fit_intercept`, `r_squared`, `saturation`,
    `predictability_time`.
    """
    curve = relative_separation(reference, perturbed, member_dim=member_dim, dims=dims)
    return fit_growth(curve, dim=dim, upper_fraction=upper_fraction,
                      tail_fraction=tail_fraction,
                      predictability_fraction=predictability_fraction,
                      min_points=min_points, window=window)
