"""Decorrelation time of a correlation curve ρ(t), with bootstrap confidence intervals.

The decorrelation time for a threshold c is the first time at which ρ(t) drops below c,
in the time units of the coordinate (t.u.), linearly interpolated between the last saved
time with ρ ≥ c and the first with ρ < c (exact for piecewise-linear ρ). A curve that is
already below c at its first time returns that time; a curve that never drops below c
returns +inf ("not decorrelated within the window", a lower bound the data cannot give),
never the last time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import xarray as xr

from rollflow.analysis._checks import require_dims, require_finite, single_chunk
from rollflow.conventions import SAMPLE, TIME, TRAJECTORY
from rollflow.errors import DataError

__all__ = ["decorrelation_time", "bootstrap_ci", "first_crossing_below", "with_origin",
           "mean_curve_decorrelation", "paired_decorrelation_difference", "THRESHOLD",
           "resample_weights", "cluster_labels"]

THRESHOLD = "threshold"


def _require_defined(correlation: xr.DataArray) -> None:
    """DataError naming the cause of NaN correlations (a zero-norm field), then finiteness."""
    undefined = int(np.isnan(correlation).sum().compute())
    if undefined:
        raise DataError(f"correlation is undefined (NaN) at {undefined} point"
                        f"{'s' if undefined > 1 else ''}: a forecast or truth field with zero "
                        f"norm (identically zero) has no correlation with anything")
    require_finite(correlation, "correlation")


def _curve_times(correlation: xr.DataArray, dims: tuple[str, ...], dim: str) -> np.ndarray:
    """Check a correlation curve (dims present, `dim` coordinate increasing, values
    defined) and return its times along `dim` (t.u.)."""
    require_dims(correlation, dims, "correlation")
    if dim not in correlation.coords:
        raise DataError(f"correlation needs a {dim!r} coordinate holding the times")
    _require_defined(correlation)
    times = np.asarray(correlation[dim].values, dtype=float)
    if times.size > 1 and not np.all(np.diff(times) > 0):
        raise DataError(f"correlation coordinate {dim!r} must be strictly increasing")
    return times


DEFAULT_THRESHOLDS = (0.95, 0.9, 0.8)


def first_crossing_below(curve: np.ndarray, times: np.ndarray, thresholds: np.ndarray,
                         interpolate: bool = True) -> np.ndarray:
    """First time each curve (..., T) drops below each threshold → (..., H); +inf if never."""
    below = curve[..., None, :] < thresholds[:, None]          # (..., H, T)
    crossed = below.any(axis=-1)
    first = np.argmax(below, axis=-1)                           # (..., H)
    out = times[first].astype(float)
    if interpolate:
        prev = np.maximum(first - 1, 0)
        rho_prev = np.take_along_axis(np.broadcast_to(curve[..., None, :], below.shape),
                                      prev[..., None], axis=-1)[..., 0]
        rho_next = np.take_along_axis(np.broadcast_to(curve[..., None, :], below.shape),
                                      first[..., None], axis=-1)[..., 0]
        drop = rho_prev - rho_next
        frac = np.divide(rho_prev - thresholds, drop, out=np.zeros_like(drop), where=drop > 0)
        interpolated = times[prev] + frac * (times[first] - times[prev])
        out = np.where(first > 0, interpolated, out)
    return np.where(crossed, out, np.inf)


def decorrelation_time(correlation: xr.DataArray, *,
                       thresholds: Sequence[float] = DEFAULT_THRESHOLDS, dim: str = TIME,
                       interpolate: bool = True) -> xr.DataArray:
    """Time at which each correlation curve first drops below each threshold.

    Args:
        correlation: ρ with dim `dim` (e.g. from `vorticity_correlation`, dims (sample,
            member, time)); the `dim` coordinate gives the times (t.u.), increasing.
        thresholds: correlation levels c (default 0.95, 0.9, 0.8).
        dim: the time dim (`time` or `lead_time`).
        interpolate: linear interpolation between saved times (else the first saved time
            with ρ < c).

    Returns:
        Times (t.u.) with `dim` replaced by a `threshold` dim; +inf where ρ never drops
        below c (see the module docstring).
    """
    times = _curve_times(correlation, (dim,), dim)
    levels = np.asarray(thresholds, dtype=float).reshape(-1)
    result = xr.apply_ufunc(
        first_crossing_below, single_chunk(correlation, [dim]),
        input_core_dims=[[dim]], output_core_dims=[[THRESHOLD]],
        kwargs={"times": times, "thresholds": levels, "interpolate": interpolate},
        dask="parallelized", output_dtypes=[float],
        dask_gufunc_kwargs={"output_sizes": {THRESHOLD: levels.size}})
    result = result.assign_coords({THRESHOLD: levels})
    return result.rename("decorrelation_time").assign_attrs(
        units=correlation[dim].attrs.get("units", "t.u."))


def _bootstrap_kernel(values: np.ndarray, indices: np.ndarray, confidence: float,
                      statistic: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    reduce = np.mean if statistic == "mean" else np.median
    estimate = reduce(values, axis=-1)
    resampled = reduce(values[..., indices], axis=-1)          # (..., R)
    tail = (1.0 - confidence) / 2
    lower, upper = np.quantile(resampled, [tail, 1.0 - tail], axis=-1, method="inverted_cdf")
    return estimate, lower, upper


def bootstrap_ci(values: xr.DataArray, *, seed: int | np.random.Generator,
                 dim: str = SAMPLE, num_resamples: int = 1000, confidence: float = 0.95,
                 statistic: Literal["mean", "median"] = "mean") -> xr.Dataset:
    """Percentile-bootstrap confidence interval of the mean (or median) over `dim`.

    Args:
        values: e.g. decorrelation times with dims (sample, threshold); +inf is allowed
            (a resample containing it has an infinite mean); NaN is not.
        seed: integer seed or numpy Generator; the resample indices are drawn once from it,
            so the result does not depend on dask chunking.
        dim: the dim resampled with replacement (independent test trajectories).
        num_resamples: number of bootstrap resamples R.
        confidence: coverage of the interval, e.g. 0.95 → 2.5 % and 97.5 % quantiles
            (empirical, no interpolation, so infinite values stay well defined).

    Returns:
        Dataset with `estimate` (statistic over all of `dim`), `lower`, `upper`, each with
        `dim` reduced.
    """
    require_dims(values, dim, "values")
    if bool(np.isnan(values).any()):
        raise DataError("values contain NaN; bootstrap needs every sample")
    if not 0 < confidence < 1:
        raise DataError(f"confidence must be in (0, 1) (got {confidence})")
    if statistic not in ("mean", "median"):
        raise DataError(f"statistic must be 'mean' or 'median' (got {statistic!r})")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    indices = rng.integers(0, values.sizes[dim], size=(num_resamples, values.sizes[dim]))
    estimate, lower, upper = xr.apply_ufunc(
        _bootstrap_kernel, single_chunk(values, [dim]),
        input_core_dims=[[dim]], output_core_dims=[[], [], []],
        kwargs={"indices": indices, "confidence": confidence, "statistic": statistic},
        dask="parallelized", output_dtypes=[float] * 3)
    attrs = {"confidence": confidence, "num_resamples": num_resamples, "statistic": statistic}
    return xr.Dataset({"estimate": estimate, "lower": lower, "upper": upper}, attrs=attrs)


def with_origin(curve: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prepend ρ = 1 at time 0 to curves (..., T) unless times already start at 0.

    A forecast is perfect at lead 0; with this point a crossing before the first saved
    lead is interpolated between lead 0 and that lead instead of reported as the lead.
    """
    if times.size and times[0] <= 0.0:
        return curve, times
    ones = np.ones(curve.shape[:-1] + (1,), dtype=curve.dtype)
    return np.concatenate([ones, curve], axis=-1), np.concatenate([[0.0], times])


def _resample_weights(indices: np.ndarray) -> np.ndarray:
    """(R, S) weights: how often each sample is drawn in each resample, divided by S; the
    resampled mean curves are then one product with the curves instead of an (R, S, T)
    gather (float64: 1 000 resamples × 64 samples × 4 members × 65 leads = 133 MB)."""
    num_resamples, size = indices.shape
    counts = np.zeros((num_resamples, size))
    np.add.at(counts, (np.arange(num_resamples)[:, None], indices), 1.0)
    return counts / size


def cluster_labels(curve: xr.DataArray, sample_dim: str = SAMPLE) -> np.ndarray | None:
    """The `trajectory` coordinate along `sample_dim` (which trajectory each initial state
    was cut from), or None when the samples are independent trajectories."""
    coord = curve.coords.get(TRAJECTORY)
    if coord is None or coord.dims != (sample_dim,):
        return None
    return np.asarray(coord.values)


def resample_weights(rng: np.random.Generator, size: int, num_resamples: int,
                     clusters: np.ndarray | None = None) -> np.ndarray:
    """(R, S) weights of a bootstrap mean over S samples: a resample's mean is weights @
    values. Without clusters, samples are drawn with replacement; with `clusters` (a label
    per sample), whole clusters are drawn with replacement (states cut from one trajectory
    are not independent) and every sample of a drawn cluster enters with the cluster's
    count; the weights of a resample sum to 1 either way."""
    if clusters is None:
        return _resample_weights(rng.integers(0, size, size=(num_resamples, size)))
    labels, inverse = np.unique(np.asarray(clusters), return_inverse=True)
    if inverse.size != size:
        raise DataError(f"{inverse.size} cluster labels for {size} samples")
    draws = rng.integers(0, labels.size, size=(num_resamples, labels.size))
    counts = np.zeros((num_resamples, labels.size))
    np.add.at(counts, (np.arange(num_resamples)[:, None], draws), 1.0)
    weights = counts[:, inverse]
    return weights / weights.sum(axis=1, keepdims=True)


def _mean_curve_kernel(values: np.ndarray, times: np.ndarray, thresholds: np.ndarray,
                       weights: np.ndarray, confidence: float
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    curves, grid = with_origin(values, times)                   # (..., S, T')
    estimate = first_crossing_below(curves.mean(axis=-2), grid, thresholds)   # (..., H)
    resampled = np.einsum("rs,...st->...rt", weights, curves)   # (..., R, T')
    crossings = first_crossing_below(resampled, grid, thresholds)             # (..., R, H)
    tail = (1.0 - confidence) / 2
    lower, upper = np.quantile(crossings, [tail, 1.0 - tail], axis=-2, method="inverted_cdf")
    return estimate, lower, upper


def mean_curve_decorrelation(correlation: xr.DataArray, *,
                             thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                             dim: str = TIME, sample_dim: str = SAMPLE,
                             seed: int | np.random.Generator = 0, num_resamples: int = 1000,
                             confidence: float = 0.95) -> xr.Dataset:
    """First lead at which the sample-mean correlation curve drops below each threshold.

    The benchmark reading (METHOD.md §5): average ρ(t) over the test trajectories, then
    take the first crossing, with lead 0 counted as ρ = 1 (`with_origin`) and linear
    interpolation. The 95 % interval is a percentile bootstrap over `sample_dim`: resample
    the trajectories with replacement, average, take the crossing again. When the samples
    carry a `trajectory` coordinate (several initial states cut from one trajectory), whole
    trajectories are resampled instead (cluster bootstrap, `resample_weights`).

    Args:
        correlation: ρ with dims `sample_dim` and `dim` (+ any others, e.g. a member or
            model dim, kept); the `dim` coordinate holds the lead times (t.u.), increasing.
        thresholds: levels c.
        seed: seed (or Generator) of the resample indices.

    Returns:
        Dataset with `estimate`, `lower`, `upper` (threshold, other dims), t.u.; +inf where
        the mean curve never drops below c.
    """
    times = _curve_times(correlation, (dim, sample_dim), dim)
    if not 0 < confidence < 1:
        raise DataError(f"confidence must be in (0, 1) (got {confidence})")
    levels = np.asarray(thresholds, dtype=float).reshape(-1)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    clusters = cluster_labels(correlation, sample_dim)
    weights = resample_weights(rng, correlation.sizes[sample_dim], num_resamples, clusters)
    estimate, lower, upper = xr.apply_ufunc(
        _mean_curve_kernel, single_chunk(correlation, [sample_dim, dim]),
        input_core_dims=[[sample_dim, dim]], output_core_dims=[[THRESHOLD]] * 3,
        kwargs={"times": times, "thresholds": levels, "weights": weights,
                "confidence": confidence},
        dask="parallelized", output_dtypes=[float] * 3,
        dask_gufunc_kwargs={"output_sizes": {THRESHOLD: levels.size}})
    out = xr.Dataset({"estimate": estimate, "lower": lower, "upper": upper})
    attrs = {"units": correlation[dim].attrs.get("units", "t.u."), "confidence": confidence,
             "num_resamples": num_resamples,
             "resampled": "trajectories (clusters of states)" if clusters is not None
             else "samples"}
    return out.assign_coords({THRESHOLD: levels}).assign_attrs(attrs)


def paired_decorrelation_difference(first: xr.DataArray, second: xr.DataArray, *,
                                    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                                    dim: str = TIME, sample_dim: str = SAMPLE,
                                    seed: int | np.random.Generator = 0,
                                    num_resamples: int = 1000,
                                    confidence: float = 0.95) -> xr.Dataset:
    """T_c(first) − T_c(second) of two forecasts of the same trajectories, paired bootstrap.

    Both are correlation curves (sample_dim, dim) of forecasts from the same initial
    states, read as in `mean_curve_decorrelation` (sample-mean curve, lead 0 counted as
    ρ = 1, first crossing). Each resample draws the same trajectories for both, so the
    difference's interval excludes the trajectory-to-trajectory variation both share.
    A `trajectory` coordinate on `first` makes it a cluster bootstrap (`resample_weights`).

    Returns a Dataset over `threshold` with `estimate`, `lower`, `upper` of the difference
    (t.u.; NaN where neither curve crosses) and `share_first_longer`: the fraction of
    resamples in which `first` stays above c longer than `second`.
    """
    dims = (sample_dim, dim)
    times = _curve_times(first, dims, dim)
    if _curve_times(second, dims, dim).shape != times.shape or set(first.dims) != set(dims) \
            or set(second.dims) != set(dims):
        raise DataError(f"both curves need exactly the dims {dims} and the same {dim}")
    if not np.allclose(second[dim].values, times) or not np.array_equal(
            first[sample_dim].values, second[sample_dim].values):
        raise DataError(f"the curves must share their {sample_dim} and {dim} coordinates "
                        "(forecasts of the same trajectories)")
    levels = np.asarray(thresholds, dtype=float).reshape(-1)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    weights = resample_weights(rng, first.sizes[sample_dim], num_resamples,
                               cluster_labels(first, sample_dim))
    estimates, resampled = [], []
    for curve in (first, second):
        values, grid = with_origin(np.asarray(curve.transpose(*dims).values, float), times)
        estimates.append(first_crossing_below(values.mean(axis=0), grid, levels))
        resampled.append(first_crossing_below(weights @ values, grid, levels))   # (R, H)
    with np.errstate(invalid="ignore"):
        estimate, diffs = estimates[0] - estimates[1], resampled[0] - resampled[1]
    tail = (1.0 - confidence) / 2
    lower, upper = np.quantile(diffs, [tail, 1.0 - tail], axis=0, method="inverted_cdf")
    coords = {THRESHOLD: levels}
    return xr.Dataset(
        {"estimate": (THRESHOLD, estimate), "lower": (THRESHOLD, lower),
         "upper": (THRESHOLD, upper),
         "share_first_longer": (THRESHOLD, (resampled[0] > resampled[1]).mean(axis=0))},
        coords=coords, attrs={"units": "t.u.", "confidence": confidence,
                              "num_resamples": num_resamples})
