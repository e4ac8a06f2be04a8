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


def _gaussian_ensemble(samples: int, members: int, n: int, seed: int) -> xr.DataArray:
    values = np.random.default_rng(seed).standard_normal((samples, members, n, n))
    return xr.DataArray(values, dims=("sample", "member", "x", "y"))


def _within_sampling_error(values: np.ndarray, expected: float, sigmas: float = 4.0) -> bool:
    """|mean − expected| ≤ `sigmas` standard errors of the mean (a false alarm for a
    Gaussian mean has probability 6e-5 at 4σ; the draws are seeded, so it is fixed)."""
    return abs(values.mean() - expected) <= sigmas * values.std(ddof=1) / np.sqrt(values.size)


def test_crps_parts_match_the_gaussian_closed_form():
    """X ~ N(0, 1), observation y = 0.7: E|X − y| = 2φ(y) + y(2Φ(y) − 1) and
    ½E|X − X'| = 1/√π; the fair parts are unbiased for both, and crps = skill − spread."""
    from math import erf, exp, pi, sqrt

    from rollflow.analysis.ensemble import crps, crps_parts

    forecast = _gaussian_ensemble(64, 4, 16, seed=0)
    truth = xr.full_like(forecast.isel(member=0, drop=True), 0.7)
    parts = crps_parts(forecast, truth, mean_dims=())
    y = 0.7
    skill = 2 * exp(-y * y / 2) / sqrt(2 * pi) + y * erf(y / sqrt(2))
    assert _within_sampling_error(parts.crps_skill.values.ravel(), skill)
    assert _within_sampling_error(parts.crps_spread.values.ravel(), 1 / sqrt(pi))
    np.testing.assert_allclose(parts.crps.values, crps(forecast, truth, mean_dims=()).values,
                               rtol=1e-12, atol=1e-12)   # the same sums, reordered


def test_energy_score_matches_the_gaussian_closed_form():
    """X ~ N(0, I_d), d = 8² points, observation 0, RMS norm ‖v‖ = |v|/√d:
    E‖X‖ = c_d/√d and E‖X − X'‖ = √2 c_d/√d with c_d = √2 Γ((d+1)/2)/Γ(d/2) (the chi
    distribution's mean), so the fair energy score has expectation (1 − 1/√2) c_d/√d."""
    from math import exp, lgamma, sqrt

    from rollflow.analysis.ensemble import energy_score

    forecast = _gaussian_ensemble(2000, 4, 8, seed=1)
    truth = xr.zeros_like(forecast.isel(member=0, drop=True))
    d = 64
    c_d = sqrt(2) * exp(lgamma((d + 1) / 2) - lgamma(d / 2))
    expected = (1 - 1 / sqrt(2)) * c_d / sqrt(d)
    assert _within_sampling_error(energy_score(forecast, truth).values, expected)


def test_energy_score_sees_spatial_structure_that_crps_cannot():
    """Truth and members constant in space (one N(0, 1) value per field) against members
    with the same marginals but independent points: per-point CRPS cannot tell them apart
    (equal expectations), the energy score prefers the members with the truth's structure."""
    from rollflow.analysis.ensemble import crps, energy_score

    rng = np.random.default_rng(2)
    shape = (400, 4, 8, 8)
    dims = ("sample", "member", "x", "y")
    coherent = xr.DataArray(np.broadcast_to(rng.standard_normal(shape[:2] + (1, 1)), shape),
                            dims=dims)
    shuffled = xr.DataArray(rng.standard_normal(shape), dims=dims)
    truth = xr.DataArray(np.broadcast_to(rng.standard_normal((400, 1, 1)), (400, 8, 8)),
                         dims=("sample", "x", "y"))
    per_point = [crps(f, truth).values for f in (coherent, shuffled)]
    difference = per_point[0] - per_point[1]
    assert _within_sampling_error(difference, 0.0)
    es = [energy_score(f, truth).values for f in (coherent, shuffled)]
    assert es[0].mean() < es[1].mean() - 4 * (es[0] - es[1]).std(ddof=1) / np.sqrt(400)


@pytest.mark.parametrize("members", [2, 5])
def test_energy_score_agrees_with_scoringrules_fair_estimator(rng, members):
    """scoringrules' es_ensemble (estimator "fair") uses the Euclidean norm over the
    variable axis; ours is the RMS over the field, i.e. theirs / √(number of points). The
    same sums in another order: relative error ~ M²·P·eps ≈ 1e-13 (bound 1e-10)."""
    import scoringrules as sr

    from rollflow.analysis import energy_score

    truth = xr.DataArray(rng.standard_normal((3, 4, 5)), dims=("sample", "x", "y"))
    forecast = xr.DataArray(rng.standard_normal((3, members, 4, 5)) * 1.3 + 0.2,
                            dims=("sample", "member", "x", "y"))
    ours = energy_score(forecast, truth).values
    theirs = sr.es_ensemble(truth.values.reshape(3, 20), forecast.values.reshape(3, members, 20),
                            m_axis=-2, v_axis=-1, estimator="fair")
    np.testing.assert_allclose(ours, np.asarray(theirs) / np.sqrt(20), rtol=1e-10)
