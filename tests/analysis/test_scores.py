"""forecast_scores on synthetic forecasts with known answers."""

import numpy as np
import pytest
import xarray as xr

from rollflow.analysis.scores import align_truth, forecast_scores
from rollflow.errors import DataError


def _truth(num_samples=4, num_times=10, n=16, dt=0.2, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(num_samples, num_times, n, n))
    grid = np.arange(n) * 2 * np.pi / n
    return xr.DataArray(v, dims=("sample", "time", "x", "y"),
                        coords={"sample": np.arange(num_samples), "time": np.arange(num_times) * dt,
                                "x": grid, "y": grid})


def _forecast_from(truth, init=2, frames=5, members=3, noise=0.0, seed=1):
    rng = np.random.default_rng(seed)
    part = truth.isel(time=slice(init + 1, init + 1 + frames))
    values = part.values[:, None] + noise * rng.normal(size=(part.sizes["sample"], members,
                                                             *part.shape[1:]))
    lead = part["time"].values - truth["time"].values[init]
    return xr.DataArray(values, dims=("sample", "member", "time", "x", "y"),
                        coords={"sample": part["sample"], "member": np.arange(members),
                                "time": part["time"], "lead_time": ("time", lead),
                                "x": part["x"], "y": part["y"]})


def test_perfect_forecast_scores():
    truth = _truth()
    scores = forecast_scores(_forecast_from(truth), truth, num_resamples=50)
    np.testing.assert_allclose(scores["correlation"], 1.0, atol=1e-12)
    np.testing.assert_allclose(scores["rmse"], 0.0, atol=1e-12)
    assert np.isinf(scores["decorrelation_time"]).all()  # never crosses
    np.testing.assert_allclose(scores["log_spectral_error"], 0.0, atol=1e-9)
    np.testing.assert_allclose(scores["crps"], 0.0, atol=1e-12)


def test_decorrelation_in_lead_time_units():
    """Members equal the truth for two frames, then the negated truth: ρ = 1, 1, −1, ..."""
    truth = _truth()
    fc = _forecast_from(truth, init=2, frames=5)
    fc[:, :, 2:] *= -1
    scores = forecast_scores(fc, truth, thresholds=(0.9,), num_resamples=20)
    # ρ drops from 1 at lead 0.4 to −1 at lead 0.6; linear crossing of 0.9 at 0.4 + 0.2·0.05.
    np.testing.assert_allclose(scores["decorrelation_time"], 0.41, atol=1e-9)
    np.testing.assert_allclose(scores["decorrelation_estimate"], 0.41, atol=1e-9)


def test_calibrated_ensemble_has_unit_spread_skill():
    """Truth and members drawn from one distribution around a shared mean: ratio ≈ 1."""
    rng = np.random.default_rng(3)
    base = _truth(num_samples=8, num_times=4, n=16)
    mean = base.values
    members = mean[:, None] + rng.normal(size=(8, 20, *mean.shape[1:]))
    truth = base.copy(data=mean + rng.normal(size=mean.shape))
    fc = xr.DataArray(members, dims=("sample", "member", "time", "x", "y"),
                      coords={"sample": base["sample"], "member": np.arange(20),
                              "time": base["time"], "x": base["x"], "y": base["y"]})
    scores = forecast_scores(fc, truth, num_resamples=20)
    np.testing.assert_allclose(scores["spread_skill"], 1.0, atol=0.05)


def test_alignment_errors():
    truth = _truth()
    fc = _forecast_from(truth)
    with pytest.raises(DataError, match="no sample"):
        align_truth(fc, truth.isel(sample=[0, 1]))
    with pytest.raises(DataError, match="past the truth's last frame"):
        align_truth(fc, truth.isel(time=slice(0, 4)))
    with pytest.raises(DataError, match="no frame at forecast time"):   # a gap inside
        align_truth(fc, truth.isel(time=[0, 1, 2, 3, 5, 6, 7, 8, 9]))
    aligned = align_truth(fc, truth)
    np.testing.assert_array_equal(aligned.values, truth.isel(time=slice(3, 8)).values)


def test_log_spectral_error_ignores_shells_beyond_nyquist_circle():
    """Energy that only a forecast has in the corner shells (|k| ≥ n/2) does not count."""
    truth = _truth(n=16)
    fc = _forecast_from(truth)
    x = truth["x"].values
    corner = 0.3 * np.cos(8 * x)[:, None] * np.cos(7 * x)[None, :]  # |k| = √113 ≈ 10.6 > 8
    scores = forecast_scores(fc + corner, truth, num_resamples=10)
    np.testing.assert_allclose(scores["log_spectral_error"], 0.0, atol=1e-9)
    inside = 0.3 * np.cos(3 * x)[:, None] * np.ones_like(x)[None, :]
    assert float(forecast_scores(fc + inside, truth, num_resamples=10)["log_spectral_error"]) > 0.01
