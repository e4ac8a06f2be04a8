"""Headline skill: both labelled decorrelation readings and ρ at fixed leads."""

import numpy as np
import pytest
import xarray as xr

from rollflow.analysis.skill import correlation_at, headline_skill

from synthetic import field, power_law_vorticity


def _pair(rng, members=3, frames=30, noise_growth=0.15):
    truth = field(power_law_vorticity(16, -3.0, rng, lead=(4, frames + 1)))
    lead = np.arange(1, frames + 1) * 0.2
    noise = rng.standard_normal((4, members, frames, 16, 16)) * truth.std().values
    base = truth.values[:, None, 1:]
    fc = base + noise_growth * lead[None, None, :, None, None] * noise
    forecast = xr.DataArray(fc, dims=("sample", "member", "time", "x", "y"),
                            coords={"time": truth.time.values[1:], "x": truth.x, "y": truth.y,
                                    "sample": truth.sample, "lead_time": ("time", lead)})
    return forecast, truth


def test_ensemble_mean_outlasts_single_members(rng):
    forecast, truth = _pair(rng)
    skill = headline_skill(forecast, truth, num_resamples=100)
    mean, member = (skill[f"decorrelation_{k}_estimate"] for k in ("mean", "member"))
    assert (mean > member).all()           # averaging members cancels independent errors
    assert (skill.decorrelation_mean_lower <= mean).all()
    assert (mean <= skill.decorrelation_mean_upper).all()
    rho = skill.correlation_at_leads
    assert list(rho.lead.values) == [0.2, 1.0, 2.0] and (np.diff(rho.values) < 0).all()


def test_perfect_forecast_never_decorrelates(rng):
    forecast, truth = _pair(rng, noise_growth=0.0)
    skill = headline_skill(forecast, truth, num_resamples=20)
    assert np.isposinf(skill.decorrelation_mean_estimate.values).all()
    np.testing.assert_allclose(skill.correlation_at_leads.values, 1.0, atol=1e-6)


def test_correlation_at_interpolates_from_one_at_lead_zero():
    curve = xr.DataArray([0.8, 0.6], dims=("lead_time",), coords={"lead_time": [0.2, 0.4]})
    np.testing.assert_allclose(correlation_at(curve, [0.1, 0.3]).values, [0.9, 0.7])


def test_an_all_zero_forecast_names_the_cause(rng):
    """Bug: an all-zero field gave "correlation contains 8 non-finite values"."""
    from rollflow.errors import DataError

    forecast, truth = _pair(rng)
    with pytest.raises(DataError, match="zero norm"):
        headline_skill(forecast * 0.0, truth, num_resamples=10)


@pytest.mark.parametrize("block", [1, 3])
def test_scores_block_by_block_equal_all_at_once(rng, block):
    """Every sample-mean score is a mean over equal samples, so blocks (here 4 samples in
    blocks of 1 or 3) reproduce the all-at-once scores to rounding."""
    forecast, truth = _pair(rng)
    whole = headline_skill(forecast, truth, num_resamples=200)
    seen = []
    parts = headline_skill(forecast.chunk(sample=1), truth, num_resamples=200,
                           block_samples=block, progress=seen.append)
    assert sum(seen) == 4 and len(seen) == -(-4 // block)
    assert set(parts.data_vars) == set(whole.data_vars)
    for name in whole.data_vars:
        np.testing.assert_allclose(parts[name].values, whole[name].values, rtol=1e-12,
                                   err_msg=name)
    with pytest.raises(Exception, match="block_samples must be ≥ 1"):
        headline_skill(forecast, truth, block_samples=0)
