"""Scores as additive sums: merge blocks, runs and more test states exactly (issue 16).

Every lead-time score of an ensemble forecast is a function of sums over forecast states
(one state = one sample; its members and grid points are reduced inside the sample):

    sum[metric, lead_time] = Σ_states value,     count[metric, lead_time] = number of states

for the metrics in `METRICS` — the member-mean and ensemble-mean correlation ρ, the
ensemble mean's squared error (mean over x, y), the unbiased ensemble variance, the fair
CRPS with its skill and spread parts, and the fair energy score of whole fields — and the
per-frame spectral error of each octave band (`bands`: metrics `spectral_error_k1`,
`spectral_error_k2-3`, …; they work with one member too). Two score
sums of disjoint states merge by adding (`merge_score_sums`); `scores_from_sums` turns sums
into the published numbers:

    mean of ρ, CRPS (and parts), energy score, band spectral errors = sum / count;
    RMSE = √(Σ squared error / count),  spread = √(Σ variance / count),
    spread–skill ratio = √((M + 1)/M) · spread / RMSE  (finite-ensemble factor, Fortin 2014).

Pure numpy/xarray; inputs are `ensemble.per_state_scores` datasets (dims sample, time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from rollflow.analysis._checks import require_dims
from rollflow.analysis.accuracy import vorticity_correlation
from rollflow.analysis.bands import BAND, band_spectral_error
from rollflow.analysis.ensemble import crps_parts, energy_score
from rollflow.conventions import LEAD_TIME, MEMBER, SAMPLE, TIME, X, Y
from rollflow.errors import DataError

__all__ = ["METRICS", "per_state_scores", "score_sums", "merge_score_sums",
           "scores_from_sums"]

METRIC = "metric"
METRICS = ("correlation", "ensemble_mean_correlation", "squared_error", "ensemble_variance",
           "crps", "crps_skill", "crps_spread", "energy_score")


def per_state_scores(forecast: xr.DataArray, truth: xr.DataArray) -> xr.Dataset:
    """Each metric of `METRICS` per (sample, time): forecast (sample, member, time, x, y),
    truth aligned to it (sample, time, x, y). Ensemble-only metrics need M ≥ 2 members."""
    require_dims(forecast, (SAMPLE, MEMBER, TIME, X, Y), "forecast")
    ensemble_mean = forecast.mean(MEMBER)
    out = xr.Dataset({
        "correlation": vorticity_correlation(forecast, truth).mean(MEMBER),
        "ensemble_mean_correlation": vorticity_correlation(ensemble_mean, truth),
        "squared_error": ((ensemble_mean - truth) ** 2).mean((X, Y))})
    if forecast.sizes[MEMBER] >= 2:
        out["ensemble_variance"] = forecast.var(MEMBER, ddof=1).mean((X, Y))
        out = out.merge(crps_parts(forecast, truth))
        out["energy_score"] = energy_score(forecast, truth)
    bands = band_spectral_error(forecast, truth)
    for label in bands[BAND].values:
        out[f"spectral_error_{label}"] = bands.sel({BAND: label}, drop=True)
    if LEAD_TIME in forecast.coords:
        out = out.assign_coords({LEAD_TIME: forecast[LEAD_TIME]})
    return out.assign_attrs(num_members=forecast.sizes[MEMBER])


def score_sums(per_state: xr.Dataset, attrs: dict | None = None) -> xr.Dataset:
    """`sum` and `count` (metric, lead_time) over the states of `per_state_scores`; `attrs`
    (evaluation grid, truth store, command, members, cost …) are kept."""
    names = [m for m in METRICS if m in per_state] + sorted(
        m for m in per_state.data_vars if m.startswith("spectral_error_"))
    lead = per_state[LEAD_TIME] if LEAD_TIME in per_state.coords else per_state[TIME]
    values = np.stack([np.asarray(per_state[m].transpose(SAMPLE, TIME).values, np.float64)
                       for m in names])                              # (metric, state, lead)
    finite = np.isfinite(values)
    dims = (METRIC, LEAD_TIME)
    return xr.Dataset(
        {"sum": (dims, np.where(finite, values, 0.0).sum(axis=1)),
         "count": (dims, finite.sum(axis=1).astype(np.int64))},
        coords={METRIC: names, LEAD_TIME: np.asarray(lead.values, np.float64)},
        attrs={"num_members": int(per_state.attrs["num_members"]), **(attrs or {}),
               "scores_layout": "additive sums over forecast states (rollflow.analysis."
                                "score_sums)"})


def merge_score_sums(parts: Sequence[xr.Dataset]) -> xr.Dataset:
    """Sums of disjoint sets of states added up. DataError for different metrics, lead
    times, members or evaluation grids (attrs `grid_size`, `num_members`)."""
    if not parts:
        raise DataError("no scores to merge")
    first = parts[0]
    for key in ("num_members", "grid_size"):
        values = {p.attrs.get(key) for p in parts}
        if len(values) > 1:
            raise DataError(f"scores differ in {key} ({sorted(map(str, values))}): merge only "
                            "scores of one forecast setting")
    for other in parts[1:]:
        for dim in (METRIC, LEAD_TIME):
            if not np.array_equal(other[dim].values, first[dim].values):
                raise DataError(f"scores differ in their {dim} coordinate")
    return xr.Dataset({"sum": sum(p["sum"] for p in parts),
                       "count": sum(p["count"] for p in parts)}, attrs=dict(first.attrs))


def scores_from_sums(sums: xr.Dataset) -> xr.Dataset:
    """The published scores (lead_time): means of ρ, CRPS (parts) and energy score, RMSE,
    spread and spread–skill ratio (see the module docstring)."""
    mean = sums["sum"] / sums["count"].where(sums["count"] > 0)
    out = xr.Dataset({m: mean.sel({METRIC: m}, drop=True) for m in mean[METRIC].values
                      if m not in ("squared_error", "ensemble_variance")})
    out["rmse"] = np.sqrt(mean.sel({METRIC: "squared_error"}, drop=True))
    if "ensemble_variance" in mean[METRIC].values:
        members = int(sums.attrs["num_members"])
        out["spread"] = np.sqrt(mean.sel({METRIC: "ensemble_variance"}, drop=True))
        out["spread_skill"] = (np.sqrt((members + 1) / members) * out["spread"]
                               / out["rmse"].where(out["rmse"] > 0))
        out["spread_skill"].attrs["finite_ensemble_factor"] = "sqrt((M + 1) / M)"
    return out.assign_attrs(sums.attrs)
