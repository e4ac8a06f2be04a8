"""Decorrelation time on synthetic curves and the bootstrap interval."""

import numpy as np
import pytest
import xarray as xr

from rollflow.analysis import bootstrap_ci, decorrelation_time, mean_curve_decorrelation
from rollflow.errors import DataError


def _curve(values, dt=0.2, dims=("time",)):
    t = np.arange(values.shape[-1]) * dt
    return xr.DataArray(values, dims=dims, coords={"time": t})


def test_linear_curve_exact_crossings():
    t = np.arange(51) * 0.2
    rho = _curve(1.0 - 0.05 * t)
    times = decorrelation_time(rho)
    assert times.dims == ("threshold",)
    np.testing.assert_allclose(times.sel(threshold=[0.95, 0.9, 0.8]).values, [1.0, 2.0, 4.0],
                               atol=1e-9)


def test_exponential_curve_interpolated_and_first_saved_time():
    t = np.arange(101) * 0.1
    tau = 3.0
    rho = _curve(np.exp(-t / tau), dt=0.1)
    exact = -tau * np.log([0.95, 0.9, 0.8])
    interp = decorrelation_time(rho).values
    np.testing.assert_allclose(interp, exact, atol=2e-3)   # chord error of exp over 0.1 t.u.
    first_saved = decorrelation_time(rho, interpolate=False).values
    np.testing.assert_allclose(first_saved, np.ceil(exact / 0.1) * 0.1, atol=1e-9)


def test_never_crossing_is_inf_and_start_below_is_first_time():
    rho = _curve(np.stack([np.full(10, 0.99), np.full(10, 0.5)]), dims=("sample", "time"))
    times = decorrelation_time(rho, thresholds=[0.9])
    assert np.isposinf(float(times.isel(sample=0, threshold=0)))
    assert float(times.isel(sample=1, threshold=0)) == 0.0


def test_lazy_matches_and_per_sample(rng):
    slopes = rng.uniform(0.02, 0.1, size=(4, 3))
    t = np.arange(60) * 0.2
    rho = _curve(1.0 - slopes[..., None] * t, dims=("sample", "member", "time"))
    eager = decorrelation_time(rho)
    np.testing.assert_allclose(eager.sel(threshold=0.8).values, 0.2 / slopes, rtol=1e-9)
    lazy = decorrelation_time(rho.chunk({"sample": 2, "time": 7}))
    xr.testing.assert_allclose(eager, lazy.compute())


def test_bootstrap_interval(rng):
    values = xr.DataArray(rng.normal(5.0, 1.0, size=(40, 3)), dims=("sample", "threshold"))
    ci = bootstrap_ci(values, seed=7)
    assert set(ci.data_vars) == {"estimate", "lower", "upper"}
    assert ci.estimate.dims == ("threshold",)
    assert bool((ci.lower < ci.estimate).all() and (ci.estimate < ci.upper).all())
    half_width = float((ci.upper - ci.lower).mean()) / 2
    assert half_width == pytest.approx(1.96 / np.sqrt(40), rel=0.3)
    xr.testing.assert_identical(ci, bootstrap_ci(values, seed=7))
    xr.testing.assert_allclose(ci, bootstrap_ci(values.chunk({"threshold": 1}), seed=7).compute())
    same = bootstrap_ci(values * 0 + 2.0, seed=np.random.default_rng(0))
    np.testing.assert_allclose([same.lower, same.upper], 2.0)


def test_bootstrap_with_never_crossing_samples():
    values = xr.DataArray(np.r_[1.0, 2.0, 3.0, np.inf], dims="sample")
    ci = bootstrap_ci(values, seed=0, statistic="median")
    assert np.isfinite(float(ci.lower)) and float(ci.estimate) == 2.5


def test_bad_curves():
    with pytest.raises(DataError, match="'time' coordinate"):
        decorrelation_time(xr.DataArray(np.ones(4), dims="time"))
    with pytest.raises(DataError, match="zero norm"):
        decorrelation_time(_curve(np.array([1.0, np.nan, 0.5])))
    with pytest.raises(DataError, match="non-finite"):
        decorrelation_time(_curve(np.array([1.0, np.inf, 0.5])))
    with pytest.raises(DataError, match="missing dim 'lead_time'"):
        decorrelation_time(_curve(np.ones(3)), dim="lead_time")
    with pytest.raises(DataError, match="NaN"):
        bootstrap_ci(xr.DataArray([1.0, np.nan], dims="sample"), seed=0)


def _samples(rows, dt=0.2):
    values = np.asarray(rows, dtype=float)
    t = (np.arange(values.shape[-1]) + 1) * dt          # saved leads start at dt, not 0
    return xr.DataArray(values, dims=("sample", "lead_time"), coords={"lead_time": t})


def test_mean_curve_crossing_of_linear_curves_is_exact():
    t = (np.arange(50) + 1) * 0.2
    rho = _samples([1 - 0.05 * t, 1 - 0.1 * t])
    out = mean_curve_decorrelation(rho, dim="lead_time", num_resamples=200)
    # mean curve 1 − 0.075 t crosses c at (1 − c)/0.075
    np.testing.assert_allclose(out.estimate.values, np.array([0.05, 0.1, 0.2]) / 0.075)
    # resampling two samples: either curve alone or their mean
    assert (out.lower.values >= np.array([0.05, 0.1, 0.2]) / 0.1 - 1e-9).all()
    assert (out.upper.values <= np.array([0.05, 0.1, 0.2]) / 0.05 + 1e-9).all()
    assert (out.lower <= out.estimate).all() and (out.estimate <= out.upper).all()


def test_mean_curve_counts_lead_zero_as_perfect():
    """A curve already below c at the first saved lead crosses between lead 0 (ρ = 1) and
    that lead, not at the lead itself."""
    rho = _samples([[0.7, 0.6, 0.5]] * 3)
    out = mean_curve_decorrelation(rho, thresholds=[0.85], dim="lead_time", num_resamples=50)
    np.testing.assert_allclose(out.estimate.values, [0.1])     # (1 − 0.85)/(1 − 0.7) · 0.2
    assert decorrelation_time(rho.isel(sample=0), dim="lead_time",
                              thresholds=[0.85]).values[0] == pytest.approx(0.2)


def test_mean_curve_differs_from_mean_of_crossings_and_keeps_other_dims():
    t = (np.arange(20) + 1) * 0.2
    fast, slow = np.exp(-t / 1.0), np.exp(-t / 10.0)
    rho = _samples([fast, slow]).expand_dims(member=3)
    out = mean_curve_decorrelation(rho, thresholds=[0.8], dim="lead_time", num_resamples=50)
    assert out.estimate.dims == ("member", "threshold")
    per_sample = -np.log(0.8) * np.array([1.0, 10.0])
    mean_curve = out.estimate.isel(member=0).values[0]
    assert per_sample[0] < mean_curve < per_sample.mean()


def test_mean_curve_never_crossing_is_inf_and_rejects_nan():
    rho = _samples([[0.99] * 5, [0.98] * 5])
    assert np.isposinf(mean_curve_decorrelation(rho, dim="lead_time", num_resamples=20)
                       .estimate.values).all()
    with pytest.raises(DataError, match="zero norm"):
        mean_curve_decorrelation(rho.where(rho > 0.985), dim="lead_time")


def test_resample_weights_reproduce_the_gathered_means(rng):
    from rollflow.analysis.decorrelation import resample_weights

    curves = rng.standard_normal((3, 7, 5))                    # (member, sample, time)
    indices = np.random.default_rng(9).integers(0, 7, size=(50, 7))
    weights = resample_weights(np.random.default_rng(9), 7, 50)   # the same draws
    gathered = curves[:, indices, :].mean(axis=-2)             # (member, R, time)
    weighted = np.einsum("rs,...st->...rt", weights, curves)
    np.testing.assert_allclose(weighted, gathered, rtol=1e-12)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)


def _curves(slopes, offsets, times):
    """ρ = 1 − slope·t + offset per sample, dims (sample, lead_time)."""
    values = 1 - np.asarray(slopes)[:, None] * times[None] + np.asarray(offsets)[:, None]
    return xr.DataArray(values, dims=("sample", "lead_time"), coords={
        "sample": np.arange(len(slopes)), "lead_time": times})


def test_paired_difference_of_linear_curves_is_exact_and_paired(rng):
    from rollflow.analysis import paired_decorrelation_difference

    times = np.arange(1, 41) * 0.1
    offsets = rng.normal(0, 0.05, 12)         # shared by both forecasts of a trajectory
    slow, fast = _curves(np.full(12, 0.1), offsets, times), _curves(np.full(12, 0.2), offsets,
                                                                      times)
    out = paired_decorrelation_difference(slow, fast, thresholds=[0.8], dim="lead_time",
                                          num_resamples=300)
    mean_offset = offsets.mean()
    expected = (0.2 + mean_offset) / 0.1 - (0.2 + mean_offset) / 0.2     # T_slow − T_fast
    np.testing.assert_allclose(out.estimate.values, [expected], atol=1e-9)
    out = out.isel(threshold=0)
    assert float(out.lower) <= expected <= float(out.upper)
    assert float(out.share_first_longer) == 1.0
    same = paired_decorrelation_difference(slow, slow, thresholds=[0.8],
                                           dim="lead_time").isel(threshold=0)
    assert float(same.lower) == float(same.upper) == 0.0     # paired: no spurious spread
    unpaired = mean_curve_decorrelation(slow, thresholds=[0.8], dim="lead_time")
    assert float((unpaired.upper - unpaired.lower).isel(threshold=0)) > 0
    with pytest.raises(DataError, match="same trajectories"):
        paired_decorrelation_difference(slow, fast.assign_coords(sample=np.arange(12) + 1),
                                        dim="lead_time")


def _decaying(rng, samples, leads=30):
    rates = rng.uniform(0.05, 0.3, size=samples)
    t = np.arange(1, leads + 1) * 0.2
    return np.exp(-rates[:, None] * t[None, :])


def test_cluster_bootstrap_resamples_whole_trajectories(rng):
    from rollflow.analysis.decorrelation import resample_weights

    curves = _decaying(rng, 8)
    t = np.arange(1, 31) * 0.2
    plain = xr.DataArray(curves, dims=("sample", "lead_time"), coords={"lead_time": t})
    # three identical states per trajectory: a cluster bootstrap of the 24 states must give
    # exactly the interval of the 8 trajectories (same draws: one per cluster)
    copies = xr.DataArray(np.repeat(curves, 3, axis=0), dims=("sample", "lead_time"),
                          coords={"lead_time": t,
                                  "trajectory": ("sample", np.repeat(np.arange(8), 3))})
    one = mean_curve_decorrelation(plain, dim="lead_time", seed=4, num_resamples=400)
    clustered = mean_curve_decorrelation(copies, dim="lead_time", seed=4, num_resamples=400)
    for name in ("estimate", "lower", "upper"):
        np.testing.assert_allclose(clustered[name].values, one[name].values, rtol=0,
                                   atol=1e-12)
    assert clustered.attrs["resampled"].startswith("trajectories")
    # treated as 24 independent states, the interval is (wrongly) narrower
    naive = mean_curve_decorrelation(copies.drop_vars("trajectory"), dim="lead_time", seed=4,
                                     num_resamples=400)
    width = lambda r: float((r.upper - r.lower).sel(threshold=0.8))
    assert width(naive) < width(clustered)
    # weights of a resample sum to one; singleton clusters reproduce the plain draws
    w = resample_weights(np.random.default_rng(1), 6, 50, np.array([0, 0, 1, 2, 2, 2]))
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_array_equal(
        resample_weights(np.random.default_rng(1), 6, 50, np.arange(6)),
        resample_weights(np.random.default_rng(1), 6, 50, None))
