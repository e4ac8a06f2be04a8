"""Headline skill of one forecast: the numbers a benchmark table reports, in one Dataset.

Composes `sample_scores`, `combine_scores` and `mean_curve_decorrelation`; defines no new
statistic.
Two decorrelation readings, always labelled (METHOD.md §5):

- ensemble mean: the sample-mean correlation curve of the ensemble mean, its first
  crossing (lead 0 counted as ρ = 1), bootstrap CI over samples — the benchmark headline;
- single member: the same reading of each member's own correlation curve, averaged over
  members (what a single deterministic trajectory would score).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from rollflow.analysis.blocks import score_blocks
from rollflow.analysis.decorrelation import DEFAULT_THRESHOLDS, mean_curve_decorrelation
from rollflow.analysis.scores import combine_scores, sample_scores
from rollflow.conventions import LEAD_TIME, MEMBER, SAMPLE, TIME, TRAJECTORY

__all__ = ["headline_skill", "skill_record", "correlation_at", "per_sample_scores",
           "skill_from_sample_scores", "concat_samples"]


def correlation_at(curve: xr.DataArray, leads: Sequence[float]) -> xr.DataArray:
    """A 1-D curve along `lead_time` (t.u.) linearly interpolated at `leads`, ρ(0) = 1."""
    times = np.concatenate([[0.0], np.asarray(curve[LEAD_TIME].values, dtype=float)])
    values = np.concatenate([[1.0], np.asarray(curve.values, dtype=float).reshape(-1)])
    out = np.interp(np.asarray(leads, dtype=float), times, values)
    return xr.DataArray(out, dims=("lead",), coords={"lead": list(leads)},
                        attrs={"units": "1", "long_name": "sample-mean correlation"})


def per_sample_scores(forecast: xr.DataArray, truth: xr.DataArray, *,
                      block_samples: int | None = None,
                      progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """`sample_scores`, lazily for all samples at once (`block_samples` None) or computed
    block by block of `block_samples` samples and concatenated: memory then holds one
    block of the forecast (plus its intermediates), however large the store.
    `progress` is called with the number of samples of each finished block."""
    if block_samples is None:
        return sample_scores(forecast, truth)
    parts = score_blocks(forecast, truth, {"scores": sample_scores},
                         block_samples=block_samples, progress=progress)["scores"]
    return concat_samples(parts)


def concat_samples(parts: Sequence[xr.Dataset]) -> xr.Dataset:
    """Per-sample score blocks joined along `sample` (attrs of the first)."""
    return xr.concat(parts, dim=SAMPLE, data_vars="all", coords="minimal", compat="override",
                     combine_attrs="override")


def _with_clusters(curve: xr.DataArray, truth: xr.DataArray) -> xr.DataArray:
    """The truth's `trajectory` coordinate on the curve's samples, if the truth has one
    (several initial states per trajectory: the bootstrap then resamples trajectories)."""
    labels = truth.coords.get(TRAJECTORY)
    if labels is None or labels.dims != (SAMPLE,):
        return curve
    return curve.assign_coords({TRAJECTORY: (SAMPLE, labels.sel({SAMPLE: curve[SAMPLE]}).values)})


def headline_skill(forecast: xr.DataArray, truth: xr.DataArray, *,
                   thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                   leads: Sequence[float] = (0.2, 1.0, 2.0), seed: int = 0,
                   num_resamples: int = 1000, block_samples: int | None = None,
                   progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """Scores of a (sample, member, time, x, y) forecast against the truth.

    Returns the `forecast_scores` Dataset plus
      decorrelation_mean_{estimate,lower,upper} (threshold): ensemble-mean reading, t.u.;
      decorrelation_member_{estimate,lower,upper} (threshold): single-member reading
        (per-member mean-curve crossings, averaged over members; CI likewise);
      mean_correlation (lead_time): sample-mean ρ of the ensemble mean;
      correlation_at_leads (lead): that curve at `leads` t.u. (interpolated, ρ(0) = 1).

    When the truth's samples carry a `trajectory` coordinate (initial states cut from
    shared trajectories), the intervals resample whole trajectories.

    With `block_samples`, the per-sample scores are computed block by block (bounded
    memory, see `per_sample_scores`); the result is the same up to float rounding.
    """
    per_sample = per_sample_scores(forecast, truth, block_samples=block_samples,
                                   progress=progress)
    return skill_from_sample_scores(per_sample, truth, thresholds=thresholds, leads=leads,
                                    seed=seed, num_resamples=num_resamples)


def skill_from_sample_scores(per_sample: xr.Dataset, truth: xr.DataArray, *,
                             thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                             leads: Sequence[float] = (0.2, 1.0, 2.0), seed: int = 0,
                             num_resamples: int = 1000) -> xr.Dataset:
    """`headline_skill` from computed `per_sample_scores` (the truth gives the samples'
    `trajectory` labels, if any)."""
    scores = combine_scores(per_sample, thresholds=thresholds, seed=seed,
                            num_resamples=num_resamples)
    mean_rho = _with_clusters(scores.ensemble_mean_correlation.swap_dims({TIME: LEAD_TIME}),
                              truth)
    member_rho = _with_clusters(scores.correlation.swap_dims({TIME: LEAD_TIME}), truth)
    ens = mean_curve_decorrelation(mean_rho, thresholds=thresholds, dim=LEAD_TIME, seed=seed,
                                   num_resamples=num_resamples)
    single = mean_curve_decorrelation(member_rho, thresholds=thresholds, dim=LEAD_TIME,
                                      seed=seed, num_resamples=num_resamples).mean(MEMBER)
    curve = mean_rho.mean("sample")
    for name in ("estimate", "lower", "upper"):
        scores[f"decorrelation_mean_{name}"] = ens[name]
        scores[f"decorrelation_member_{name}"] = single[name]
    scores["mean_correlation"] = curve.drop_vars(TIME, errors="ignore")
    scores["correlation_at_leads"] = correlation_at(curve, leads)
    return scores


def skill_record(skill: xr.Dataset) -> dict:
    """A `headline_skill` Dataset as plain JSON-ready numbers (t.u. keyed by threshold).

    Keys: T_mean, T_member (estimates) and T_{mean,member}_{lower,upper} (95 % CI), each
    {"0.95": …, "0.9": …, "0.8": …}; rho_at {"0.2": …} (ρ of the ensemble mean at those
    leads); log_spectral_error; and, when the forecast's cost attrs were carried over,
    seconds_per_time_unit (per member) and network_calls_per_frame (per member).
    """
    keys = [str(float(t)) for t in skill.threshold.values]
    record: dict = {}
    for kind in ("mean", "member"):
        for part, suffix in (("estimate", ""), ("lower", "_lower"), ("upper", "_upper")):
            values = skill[f"decorrelation_{kind}_{part}"].values.tolist()
            record[f"T_{kind}{suffix}"] = dict(zip(keys, map(float, values)))
    record["rho_at"] = {str(float(lead)): float(v) for lead, v in
                        zip(skill.lead.values, skill.correlation_at_leads.values)}
    if "log_spectral_error" in skill:
        record["log_spectral_error"] = float(skill.log_spectral_error)
    for attr, key in (("forecast_seconds_per_time_unit", "seconds_per_time_unit"),
                      ("forecast_network_calls_per_frame", "network_calls_per_frame")):
        if attr in skill.attrs:
            record[key] = float(skill.attrs[attr])
    return record
