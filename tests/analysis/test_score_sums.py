"""Scores as additive sums: halves merged equal the whole, and the published numbers
equal the direct functions'."""

import numpy as np
import pytest
import xarray as xr

from rollflow.analysis.ensemble import spread_skill
from rollflow.analysis.score_sums import (merge_score_sums, per_state_scores, score_sums,
                                          scores_from_sums)
from rollflow.errors import DataError


def _pair(samples=6, members=4, times=5, n=8, seed=0):
    rng = np.random.default_rng(seed)
    truth = xr.DataArray(rng.standard_normal((samples, times, n, n)),
                         dims=("sample", "time", "x", "y"))
    forecast = truth.expand_dims(member=members, axis=1) + 0.7 * xr.DataArray(
        rng.standard_normal((samples, members, times, n, n)),
        dims=("sample", "member", "time", "x", "y"))
    lead = ("time", 0.2 * np.arange(1, times + 1))
    return forecast.assign_coords(lead_time=lead), truth


def test_two_halves_merged_equal_the_whole():
    """The merge adds two partial sums; the whole sums the same values in one pass. The
    difference is float64 re-association: ≤ (number of states) · eps · Σ|values|, relative
    ~1e-15 here (bound 1e-12)."""
    forecast, truth = _pair()
    whole = score_sums(per_state_scores(forecast, truth), {"grid_size": 8})
    halves = [score_sums(per_state_scores(forecast.isel(sample=part), truth.isel(sample=part)),
                         {"grid_size": 8}) for part in (slice(0, 2), slice(2, 6))]
    merged = merge_score_sums(halves)
    np.testing.assert_array_equal(merged["count"].values, whole["count"].values)
    np.testing.assert_allclose(merged["sum"].values, whole["sum"].values, rtol=1e-12)
    a, b = scores_from_sums(merged), scores_from_sums(whole)
    for name in b.data_vars:
        np.testing.assert_allclose(a[name].values, b[name].values, rtol=1e-12)


def test_published_numbers_equal_the_direct_functions():
    """RMSE, spread and spread–skill ratio from the sums equal `spread_skill` over (sample,
    x, y) (each state has the same number of points, so the mean of per-state means is the
    mean); the energy score and CRPS parts are per-state means of their functions."""
    forecast, truth = _pair()
    scores = scores_from_sums(score_sums(per_state_scores(forecast, truth)))
    direct = spread_skill(forecast, truth, mean_dims=("sample", "x", "y"))
    for name in ("rmse", "spread", "spread_skill"):
        np.testing.assert_allclose(scores[name].values, direct[name].values, rtol=1e-12)
    np.testing.assert_allclose(scores.crps.values,
                               (scores.crps_skill - scores.crps_spread).values, rtol=1e-12)
    assert scores.spread_skill.attrs["finite_ensemble_factor"] == "sqrt((M + 1) / M)"
    assert list(scores.lead_time.values) == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])


def test_scores_of_other_settings_do_not_merge():
    forecast, truth = _pair()
    sums = score_sums(per_state_scores(forecast, truth), {"grid_size": 8})
    other = score_sums(per_state_scores(forecast.isel(member=[0, 1]), truth), {"grid_size": 8})
    with pytest.raises(DataError, match="num_members"):
        merge_score_sums([sums, other])
    with pytest.raises(DataError, match="no scores"):
        merge_score_sums([])
