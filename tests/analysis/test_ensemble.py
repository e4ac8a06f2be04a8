"""Fair CRPS and spread–skill against brute force, closed forms and calibrated ensembles."""

import itertools
import math

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm

from rollflow.analysis import crps, spread_skill
from rollflow.errors import DataError


def _brute_force_fair_crps(members, y):
    m = len(members)
    skill = sum(abs(x - y) for x in members) / m
    pairs = sum(abs(a - b) for a, b in itertools.product(members, members))
    return skill - pairs / (2 * m * (m - 1))


def test_crps_equals_pairwise_formula(rng):
    forecast = xr.DataArray(rng.standard_normal((5, 7)), dims=("point", "member"))
    truth = xr.DataArray(rng.standard_normal(5), dims="point")
    score = crps(forecast, truth, mean_dims=())
    expected = [_brute_force_fair_crps(forecast.values[i], truth.values[i]) for i in range(5)]
    np.testing.assert_allclose(score.values, expected, rtol=1e-12)


def test_crps_matches_gaussian_closed_form_for_large_ensembles(rng):
    truth = xr.DataArray(np.array([-1.5, 0.0, 0.4, 2.0]), dims="point")
    sigma = 1.3
    members = xr.DataArray(sigma * rng.standard_normal((4, 20000)), dims=("point", "member"))
    z = truth.values / sigma
    closed = sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / math.sqrt(math.pi))
    np.testing.assert_allclose(crps(members, truth, mean_dims=()).values, closed, rtol=0.02)


def test_crps_perfect_and_lazy(rng):
    truth = xr.DataArray(rng.standard_normal((3, 4, 4)), dims=("time", "x", "y"))
    same = xr.concat([truth, truth], dim="member")
    np.testing.assert_allclose(crps(same, truth).values, 0.0, atol=1e-15)
    forecast = truth + xr.DataArray(rng.standard_normal((6, 3, 4, 4)),
                                    dims=("member", "time", "x", "y"))
    eager = crps(forecast, truth)
    assert eager.dims == ("time",)
    xr.testing.assert_allclose(eager, crps(forecast.chunk({"time": 1}), truth).compute())


def test_spread_skill_calibrated_ensemble_is_one(rng):
    m = 5
    truth = xr.DataArray(rng.standard_normal((200, 16, 16)), dims=("sample", "x", "y"))
    forecast = xr.DataArray(rng.standard_normal((200, m, 16, 16)),
                            dims=("sample", "member", "x", "y"))
    scores = spread_skill(forecast, truth, mean_dims=("sample", "x", "y"))
    assert float(scores.spread_skill) == pytest.approx(1.0, abs=0.02)
    assert float(scores.rmse) == pytest.approx(math.sqrt(1 + 1 / m), rel=0.02)
    assert scores.attrs["num_members"] == m
    under = spread_skill(0.5 * forecast, truth, mean_dims=("sample", "x", "y"))
    assert float(under.spread_skill) < 0.6
    lazy = spread_skill(forecast.chunk({"sample": 50}), truth.chunk({"sample": 50}),
                        mean_dims=("sample", "x", "y"))
    xr.testing.assert_allclose(scores, lazy.compute())


def test_ensemble_errors(rng):
    truth = xr.DataArray(rng.standard_normal((3, 4, 4)), dims=("time", "x", "y"))
    one = truth.expand_dims(member=1)
    with pytest.raises(DataError, match="at least 2 members"):
        crps(one, truth)
    with pytest.raises(DataError, match="forecast is missing dim 'member'"):
        spread_skill(truth, truth)
    with pytest.raises(DataError, match="truth must not have"):
        crps(xr.concat([one, one], "member"), xr.concat([one, one], "member"))
    forecast = xr.concat([truth, truth], "member")
    with pytest.raises(DataError, match="non-finite"):
        spread_skill(forecast, truth.where(truth > 0))
    with pytest.raises(DataError, match="different grids"):
        crps(forecast, truth.isel(x=slice(0, 3)))


@pytest.mark.parametrize("members", [2, 5, 16])
def test_crps_agrees_with_scoringrules_fair_estimator(rng, members):
    """Cross-check against an independent, maintained implementation of the fair CRPS
    (scoringrules, test-only dependency); its default "qd" estimator and
    xskillscore/properscoring are the biased empirical-distribution (1/M²) form."""
    import scoringrules as sr
    import xarray as xr

    from rollflow.analysis import crps

    truth = xr.DataArray(rng.standard_normal((3, 4, 5)), dims=("sample", "x", "y"))
    forecast = xr.DataArray(rng.standard_normal((3, members, 4, 5)) * 1.3 + 0.2,
                            dims=("sample", "member", "x", "y"))
    ours = crps(forecast, truth, mean_dims=())
    theirs = sr.crps_ensemble(truth.values, forecast.transpose("sample", "x", "y",
                                                               "member").values,
                              estimator="fair")
    np.testing.assert_allclose(ours.transpose("sample", "x", "y").values, theirs, rtol=1e-10,
                               atol=1e-12)
    biased = sr.crps_ensemble(truth.values, forecast.transpose("sample", "x", "y",
                                                               "member").values, estimator="nrg")
    assert (biased > theirs - 1e-12).all() and not np.allclose(biased, theirs)
