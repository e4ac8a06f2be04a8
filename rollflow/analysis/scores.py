"""One call that scores an ensemble forecast against the truth (METHOD.md §5).

Composes the public analysis functions; no new statistics are defined here. Inputs are
vorticity DataArrays: the forecast with dims (sample, member, time, x, y) and a
`lead_time` coordinate along `time` (as written by `rollflow.forecast`), the truth with
dims (sample, time, x, y) covering at least the forecast's samples and times.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from rollflow.analysis._checks import require_dims
from rollflow.analysis.accuracy import rmse, vorticity_correlation
from rollflow.analysis.bands import band_error_of_spectra
from rollflow.analysis.decorrelation import bootstrap_ci, decorrelation_time
from rollflow.analysis.ensemble import crps
from rollflow.analysis.spectra import energy_spectrum, log_spectral_error
from rollflow.conventions import LEAD_TIME, MEMBER, SAMPLE, TIME, X, Y
from rollflow.errors import DataError

__all__ = ["align_truth", "forecast_scores", "sample_scores", "combine_scores"]

_TIME_ATOL = 1e-6  # t.u.; saved times are multiples of Δt ≥ 1e-3


def align_truth(forecast: xr.DataArray, truth: xr.DataArray) -> xr.DataArray:
    """The truth at the forecast's samples and times (DataError naming what is missing)."""
    require_dims(forecast, (SAMPLE, TIME, X, Y), "forecast")
    require_dims(truth, (SAMPLE, TIME, X, Y), "truth")
    missing = np.setdiff1d(forecast[SAMPLE].values, truth[SAMPLE].values)
    if missing.size:
        raise DataError(f"truth has no sample(s) {missing.tolist()} of the forecast")
    truth = truth.sel({SAMPLE: forecast[SAMPLE].values})
    times, wanted = truth[TIME].values, forecast[TIME].values
    if wanted.size and wanted.max() > times.max() + _TIME_ATOL:
        beyond = int((wanted > times.max() + _TIME_ATOL).sum())
        raise DataError(f"the forecast runs {beyond} frame(s) past the truth's last frame "
                        f"(t = {times.max():g} t.u.): it cannot be scored frame by frame; "
                        "read a long rollout against the climate (analysis.climate)")
    index = np.searchsorted(times, wanted - _TIME_ATOL)
    index = np.clip(index, 0, times.size - 1)
    bad = np.abs(times[index] - wanted) > _TIME_ATOL
    if bad.any():
        raise DataError(f"truth has no frame at forecast time(s) {wanted[bad][:5].tolist()} t.u.")
    aligned = truth.isel({TIME: index}).assign_coords({TIME: forecast[TIME]})
    if LEAD_TIME in forecast.coords:
        aligned = aligned.assign_coords({LEAD_TIME: forecast[LEAD_TIME]})
    return aligned


def sample_scores(forecast: xr.DataArray, truth: xr.DataArray) -> xr.Dataset:
    """Scores of each sample, the parts `combine_scores` turns into `forecast_scores`.

    Every sample-mean of `forecast_scores` is a mean of per-sample values over equally
    sized samples, so scoring blocks of samples and concatenating them along `sample`
    gives the same result as scoring all at once (`headline_skill(..., block_samples=B)`
    uses this to evaluate stores larger than memory).

    Returns a Dataset along `sample` with
      correlation (sample, member, time), ensemble_mean_correlation (sample, time);
      squared_error (sample, time): mean over (x, y) of (ensemble mean − truth)², 1/t.u.²;
      with ≥ 2 members, ensemble_variance (sample, time): mean over (x, y) of the unbiased
      member variance, and crps (sample, time), 1/t.u.;
      spectral_error (sample, time, band): per-frame octave-band error (`bands`);
      energy_spectrum_{forecast,truth} (sample, k), averaged over (member,) time.
    """
    require_dims(forecast, (SAMPLE, MEMBER, TIME, X, Y), "forecast")
    truth = align_truth(forecast, truth)
    ensemble_mean = forecast.mean(MEMBER)
    out = xr.Dataset({
        "correlation": vorticity_correlation(forecast, truth),
        "ensemble_mean_correlation": vorticity_correlation(ensemble_mean, truth),
        "squared_error": rmse(ensemble_mean, truth) ** 2,
    })
    if forecast.sizes[MEMBER] >= 2:  # the spread² of `spread_skill`, without its RMSE again
        out["ensemble_variance"] = forecast.var(MEMBER, ddof=1).mean((X, Y))
        out["crps"] = crps(forecast, truth)
    frames_f, frames_t = energy_spectrum(forecast), energy_spectrum(truth)   # per frame, once
    out["spectral_error"] = band_error_of_spectra(frames_f, frames_t, forecast.sizes[X])
    out["energy_spectrum_forecast"] = frames_f.mean((MEMBER, TIME)).assign_attrs(frames_f.attrs)
    out["energy_spectrum_truth"] = frames_t.mean(TIME).assign_attrs(frames_t.attrs)
    if LEAD_TIME in forecast.coords:
        out = out.assign_coords({LEAD_TIME: forecast[LEAD_TIME]})
    out.attrs.update({"num_members": forecast.sizes[MEMBER], "grid_size": forecast.sizes[X],
                      "units": truth.attrs.get("units", "")})
    return out


def combine_scores(per_sample: xr.Dataset, *, thresholds: Sequence[float] = (0.95, 0.9, 0.8),
                   seed: int = 0, num_resamples: int = 1000) -> xr.Dataset:
    """The `forecast_scores` Dataset from `sample_scores` output (see there)."""
    members = int(per_sample.attrs["num_members"])
    rho = per_sample["correlation"]
    lead = per_sample[LEAD_TIME] if LEAD_TIME in per_sample.coords else per_sample[TIME]
    crossing = decorrelation_time(rho.assign_coords({TIME: lead.values}),
                                  thresholds=thresholds).mean(MEMBER)
    ci = bootstrap_ci(crossing, seed=seed, num_resamples=num_resamples)
    error = np.sqrt(per_sample["squared_error"].mean(SAMPLE))
    out = xr.Dataset({
        "correlation": rho, "ensemble_mean_correlation": per_sample["ensemble_mean_correlation"],
        "decorrelation_time": crossing,
        "decorrelation_estimate": ci["estimate"], "decorrelation_lower": ci["lower"],
        "decorrelation_upper": ci["upper"],
        "rmse": error.rename("rmse").assign_attrs(units=per_sample.attrs.get("units", "")),
    })
    if "ensemble_variance" in per_sample:
        spread = np.sqrt(per_sample["ensemble_variance"].mean(SAMPLE))
        out["spread"] = spread
        out["spread_skill"] = np.sqrt((members + 1) / members) * spread / error.where(error > 0)
        out["crps"] = per_sample["crps"].mean(SAMPLE)
    if "spectral_error" in per_sample:
        out["spectral_error"] = per_sample["spectral_error"].mean(SAMPLE)
    spec_f = per_sample["energy_spectrum_forecast"].mean(SAMPLE)
    spec_t = per_sample["energy_spectrum_truth"].mean(SAMPLE)
    out["energy_spectrum_forecast"], out["energy_spectrum_truth"] = spec_f, spec_t
    out["log_spectral_error"] = log_spectral_error(
        spec_f, spec_t, k_max=int(per_sample.attrs["grid_size"]) // 2 - 1)
    out.attrs.update({"num_members": members, "grid_size": int(per_sample.attrs["grid_size"]),
                      "bootstrap_seed": seed, "bootstrap_resamples": num_resamples})
    return out


def forecast_scores(forecast: xr.DataArray, truth: xr.DataArray, *,
                    thresholds: Sequence[float] = (0.95, 0.9, 0.8), seed: int = 0,
                    num_resamples: int = 1000) -> xr.Dataset:
    """Correlation, decorrelation time (bootstrap CI), RMSE, spread–skill, CRPS, spectra.

    Returns a Dataset with
      correlation (sample, member, time), ensemble_mean_correlation (sample, time);
      decorrelation_time (sample, threshold): member-averaged first crossing, t.u. of lead
      time (+inf if ρ never drops below), with decorrelation_{estimate,lower,upper}
      (threshold) from a 95 % percentile bootstrap over samples (seed `seed`);
      rmse (time) of the ensemble mean over (sample, x, y), 1/t.u.; with ≥ 2 members also
      spread, spread_skill and crps (time);
      energy_spectrum_{forecast,truth} (k), time/sample/member-averaged, and
      spectral_error (time, band): per-frame octave-band spectral error, mean over samples;
      log_spectral_error (scalar) over the shells 1 ≤ k ≤ n/2 − 1 inside the Nyquist
      circle: truncated truth data have no energy at the Nyquist row/column and only
      partly filled corner shells beyond n/2, so those shells would measure the
      truncation, not the forecast.

    It is `combine_scores(sample_scores(forecast, truth), ...)`.
    """
    return combine_scores(sample_scores(forecast, truth), thresholds=thresholds, seed=seed,
                          num_resamples=num_resamples)
