"""Ensemble scores: ensemble-mean RMSE, spread, spread–skill ratio and the fair CRPS.

A forecast has a member dim (default `member`, M ≥ 2 members); the truth has none.
Shared dims must carry identical coordinates.

- Spread–skill (Fortin et al. 2014): with ensemble mean x̄ and unbiased ensemble variance
  s² = Σ_i (x_i − x̄)² / (M − 1),

      RMSE   = sqrt(mean (x̄ − y)²),   spread = sqrt(mean s²),
      ratio  = sqrt((M + 1)/M) · spread / RMSE,

  where the mean runs over `mean_dims`. For a calibrated ensemble (truth statistically
  indistinguishable from a member) E[(x̄ − y)²] = (1 + 1/M) E[s²], so the ratio → 1;
  < 1 means under-dispersive (over-confident).
- Fair CRPS (Ferro 2014), unbiased for the CRPS of the ensemble's parent distribution:

      CRPS = (1/M) Σ_i |x_i − y| − 1/(2M(M − 1)) Σ_{i,j} |x_i − x_j|,

  computed in O(M log M) per point from the sorted members. Units of the variable.
  `crps_parts` returns its two terms: the skill part (1/M) Σ_i |x_i − y| and the spread
  part 1/(2M(M − 1)) Σ_{i,j} |x_i − x_j| (CRPS = skill − spread).
- Fair energy score (Gneiting & Raftery 2007, fair form as for the CRPS) of whole fields:

      ES = (1/M) Σ_i ‖x_i − y‖ − 1/(2M(M − 1)) Σ_{i,j} ‖x_i − x_j‖,

  with ‖v‖ the root mean square over the field dims (so that ES is in the variable's
  units and does not grow with the grid). Per-point CRPS cannot tell members with the right
  spatial structure from members whose points are shuffled; the energy score can.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rollflow.analysis._checks import as_dims, require_dims, single_chunk
from rollflow.analysis.accuracy import check_pair
from rollflow.conventions import MEMBER, X, Y
from rollflow.errors import DataError

__all__ = ["crps", "crps_parts", "spread_skill", "fair_crps_kernel", "energy_score"]


def _require_ensemble(forecast: xr.DataArray, truth: xr.DataArray, member_dim: str) -> int:
    require_dims(forecast, member_dim, "forecast")
    if member_dim in truth.dims:
        raise DataError(f"truth must not have the member dim {member_dim!r}")
    members = forecast.sizes[member_dim]
    if members < 2:
        raise DataError(f"an ensemble needs at least 2 members along {member_dim!r} "
                        f"(got {members})")
    return members


def _crps_parts_kernel(members: np.ndarray, observation: np.ndarray):
    """members (..., M), observation (...) → (skill part, spread part), each (...)."""
    m = members.shape[-1]
    skill = np.mean(np.abs(members - observation[..., None]), axis=-1)
    weights = 2 * np.arange(1, m + 1) - m - 1                  # Σ_ij |x_i−x_j| = 2 Σ w_i x_(i)
    spread = 2 * np.sum(weights * np.sort(members, axis=-1), axis=-1) / (2 * m * (m - 1))
    return skill, spread


def fair_crps_kernel(members: np.ndarray, observation: np.ndarray) -> np.ndarray:
    """Fair CRPS of ensembles `members` (..., M) against `observation` (...) → (...)."""
    skill, spread = _crps_parts_kernel(members, observation)
    return skill - spread


def crps_parts(forecast: xr.DataArray, truth: xr.DataArray, *, member_dim: str = MEMBER,
               mean_dims: str | tuple[str, ...] = (X, Y)) -> xr.Dataset:
    """The fair CRPS with its two parts, averaged over `mean_dims`: `crps_skill`
    ((1/M) Σ|x_i − y|), `crps_spread` (1/(2M(M−1)) Σ|x_i − x_j|) and `crps` = skill −
    spread, in the variable's units; arguments as `crps`."""
    mean_dims = as_dims(mean_dims)
    _require_ensemble(forecast, truth, member_dim)
    check_pair(forecast, truth, tuple(d for d in mean_dims if d != member_dim))
    dtype = np.result_type(forecast.dtype, np.float64)
    skill, spread = xr.apply_ufunc(
        _crps_parts_kernel, single_chunk(forecast, [member_dim]), truth,
        input_core_dims=[[member_dim], []], output_core_dims=[[], []],
        dask="parallelized", output_dtypes=[dtype, dtype])
    if mean_dims:
        skill, spread = skill.mean(mean_dims), spread.mean(mean_dims)
    units = {"units": truth.attrs.get("units", "")}
    return xr.Dataset({"crps": (skill - spread).assign_attrs(units),
                       "crps_skill": skill.assign_attrs(units),
                       "crps_spread": spread.assign_attrs(units)})


def _energy_kernel(members: np.ndarray, observation: np.ndarray) -> np.ndarray:
    """members (..., M, P), observation (..., P) → fair energy score (...), RMS norm."""
    m = members.shape[-2]
    skill = np.sqrt(np.mean((members - observation[..., None, :]) ** 2, axis=-1)).mean(-1)
    pairs = np.sqrt(np.mean((members[..., :, None, :] - members[..., None, :, :]) ** 2,
                            axis=-1))
    return skill - pairs.sum(axis=(-2, -1)) / (2 * m * (m - 1))


def energy_score(forecast: xr.DataArray, truth: xr.DataArray, *, member_dim: str = MEMBER,
                 field_dims: str | tuple[str, ...] = (X, Y)) -> xr.DataArray:
    """Fair energy score of each ensemble forecast field against the truth field.

    Args:
        forecast: ensemble, e.g. (sample, member, time, x, y), M ≥ 2 members.
        truth: e.g. (sample, time, x, y).
        member_dim: the ensemble dim.
        field_dims: the dims of one field (the vector the score compares whole).

    Returns:
        ES in the variable's units (RMS over the field), member and field dims reduced.
        Memory: M² fields per forecast at a time (M = 8 at 32²: 64 × 1024 values).
    """
    field_dims = as_dims(field_dims)
    _require_ensemble(forecast, truth, member_dim)
    check_pair(forecast, truth, field_dims)
    stacked_f = forecast.stack(_field=field_dims)
    stacked_t = truth.stack(_field=field_dims)
    score = xr.apply_ufunc(
        _energy_kernel, single_chunk(stacked_f, [member_dim, "_field"]),
        single_chunk(stacked_t, ["_field"]),
        input_core_dims=[[member_dim, "_field"], ["_field"]], output_core_dims=[[]],
        dask="parallelized", output_dtypes=[np.result_type(forecast.dtype, np.float64)])
    return score.rename("energy_score").assign_attrs(units=truth.attrs.get("units", ""))


def crps(forecast: xr.DataArray, truth: xr.DataArray, *, member_dim: str = MEMBER,
         mean_dims: str | tuple[str, ...] = (X, Y)) -> xr.DataArray:
    """Fair (unbiased) CRPS of an ensemble forecast, averaged over `mean_dims`.

    Args:
        forecast: ensemble, e.g. (sample, member, time, x, y).
        truth: e.g. (sample, time, x, y), shared coords equal to the forecast's.
        member_dim: the ensemble dim (M ≥ 2).
        mean_dims: dims averaged after scoring each point; () keeps the pointwise score.

    Returns:
        CRPS ≥ −(spread term) in the variable's units (0 is a perfect deterministic hit;
        the fair estimator can be slightly negative for tiny M), member dim reduced.
    """
    mean_dims = as_dims(mean_dims)
    _require_ensemble(forecast, truth, member_dim)
    check_pair(forecast, truth, tuple(d for d in mean_dims if d != member_dim))
    score = xr.apply_ufunc(
        fair_crps_kernel, single_chunk(forecast, [member_dim]), truth,
        input_core_dims=[[member_dim], []], output_core_dims=[[]],
        dask="parallelized", output_dtypes=[np.result_type(forecast.dtype, np.float64)])
    if mean_dims:
        score = score.mean(mean_dims)
    return score.rename("crps").assign_attrs(units=truth.attrs.get("units", ""))


def spread_skill(forecast: xr.DataArray, truth: xr.DataArray, *, member_dim: str = MEMBER,
                 mean_dims: str | tuple[str, ...] = (X, Y)) -> xr.Dataset:
    """Ensemble-mean RMSE, spread and spread–skill ratio (finite-ensemble corrected).

    Args:
        forecast: ensemble, e.g. (sample, member, time, x, y), M ≥ 2 members.
        truth: e.g. (sample, time, x, y).
        member_dim: the ensemble dim.
        mean_dims: dims the squared error and variance are averaged over before the root,
            e.g. ("sample", "x", "y") for curves vs time.

    Returns:
        Dataset with `rmse` (of the ensemble mean), `spread` (sqrt of the mean unbiased
        ensemble variance) and `spread_skill` = sqrt((M+1)/M)·spread/rmse, each with the
        member dim and `mean_dims` reduced.
    """
    mean_dims = as_dims(mean_dims)
    if member_dim in mean_dims:
        raise DataError(f"mean_dims must not contain the member dim {member_dim!r}")
    members = _require_ensemble(forecast, truth, member_dim)
    check_pair(forecast, truth, mean_dims)
    ensemble_mean = forecast.mean(member_dim)
    error = np.sqrt(((ensemble_mean - truth) ** 2).mean(mean_dims))
    spread = np.sqrt(forecast.var(member_dim, ddof=1).mean(mean_dims))
    ratio = np.sqrt((members + 1) / members) * spread / error.where(error > 0)
    return xr.Dataset({"rmse": error, "spread": spread, "spread_skill": ratio},
                      attrs={"num_members": members})
