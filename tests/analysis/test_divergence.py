"""Separation growth: known rates from synthetic exponential-then-saturating curves."""

import numpy as np
import pytest
import xarray as xr
from synthetic import field

from rollflow.analysis import fit_growth, relative_separation, separation_growth
from rollflow.errors import DataError


def _synthetic_separation(t, rate, r0=1e-5, saturation=1.4, transient=0.0):
    """A decaying transient, then exp(rate t), saturating logistically at `saturation`."""
    g = r0 * (transient * np.exp(-3.0 * t) + (1 - transient) * np.exp(rate * t))
    return g / (1 + g / saturation)


def _curves(rates, transient=0.0, dt=0.2, duration=40.0):
    t = np.arange(round(duration / dt) + 1) * dt
    values = np.stack([_synthetic_separation(t, r, transient=transient) for r in rates])
    return xr.DataArray(values, dims=("pair", "time"), coords={"time": t})


@pytest.mark.parametrize("transient", [0.0, 0.9])
def test_fit_recovers_known_rate(transient):
    rates = [0.5, 0.8, 1.2]
    result = fit_growth(_curves(rates, transient=transient, duration=60.0))
    np.testing.assert_allclose(result.growth_rate.values, rates, rtol=0.02)
    np.testing.assert_allclose(result.lyapunov_time.values, 1 / np.array(rates), rtol=0.02)
    np.testing.assert_allclose(result.saturation.values, 1.4, rtol=0.01)
    assert bool((result.r_squared > 0.999).all())
    # the window ends before 10 % of saturation: (1 − transient) r0 exp(λ t_end) ≲ 0.14
    t_end_max = np.log(0.14 / (1e-5 * (1 - transient))) / np.array(rates)
    assert bool((result.fit_end <= t_end_max + 0.2).all())
    if transient:
        assert bool((result.fit_start > 0).all())   # skipped the decaying start


def test_predictability_time_of_pure_logistic():
    rate, r0, s = 0.5, 1e-5, 1.4
    result = fit_growth(_curves([rate], duration=60.0).isel(pair=0))
    # r = s/2 ⇔ g = s ⇔ r0 e^{λt} = s
    assert float(result.predictability_time) == pytest.approx(np.log(s / r0) / rate, abs=0.02)


def test_explicit_window_and_short_window_nan():
    curves = _curves([0.7]).isel(pair=0)
    fixed = fit_growth(curves, window=(2.0, 8.0))
    assert float(fixed.fit_start) == pytest.approx(2.0)
    assert float(fixed.fit_end) == pytest.approx(8.0)
    assert float(fixed.growth_rate) == pytest.approx(0.7, rel=1e-3)
    assert np.isnan(float(fit_growth(curves, window=(2.0, 2.3)).growth_rate))


def test_twin_fields_give_the_prescribed_separation(rng):
    t = np.arange(101) * 0.2
    r = _synthetic_separation(t, 0.6)
    reference = field(rng.standard_normal((2, t.size, 8, 8)), dims=("pair", "time", "x", "y"))
    noise = rng.standard_normal(reference.shape)
    noise_norm = np.sqrt((noise ** 2).sum(axis=(-2, -1), keepdims=True))
    ref_norm = np.sqrt((reference.values ** 2).sum(axis=(-2, -1), keepdims=True))
    perturbed = reference + noise / noise_norm * ref_norm * r[:, None, None]
    np.testing.assert_allclose(relative_separation(reference, perturbed).values,
                               np.broadcast_to(r, (2, t.size)), rtol=1e-10)
    result = separation_growth(reference, perturbed)
    np.testing.assert_allclose(result.growth_rate.values, 0.6, rtol=0.02)
    lazy = separation_growth(reference.chunk({"pair": 1}), perturbed.chunk({"time": 20}))
    xr.testing.assert_allclose(result, lazy.compute())
    ensemble = xr.concat([reference, perturbed], dim="member")
    small = r < 1e-2   # equal up to the norm of the reference vs the members' mean norm
    np.testing.assert_allclose(relative_separation(ensemble).values[:, small],
                               relative_separation(reference, perturbed).values[:, small],
                               rtol=1e-3)


def test_decorrelated_ensemble_saturates_at_sqrt2(rng):
    members = field(rng.standard_normal((6, 4, 32, 32)), dims=("member", "time", "x", "y"))
    np.testing.assert_allclose(relative_separation(members).values, np.sqrt(2), rtol=0.05)


def test_divergence_errors(rng):
    a = field(rng.standard_normal((3, 4, 4)), dims=("time", "x", "y"))
    with pytest.raises(DataError, match="identical twins"):
        fit_growth(relative_separation(a, a))
    with pytest.raises(DataError, match="different 'x' coordinates"):
        relative_separation(a, a.assign_coords(x=a.x + 1))
    with pytest.raises(DataError, match="ensemble is missing dim 'member'"):
        relative_separation(a)
    with pytest.raises(DataError, match="non-finite"):
        relative_separation(a, a.where(a > 0))
    with pytest.raises(DataError, match="'time' coordinate"):
        fit_growth(xr.DataArray(np.ones(5), dims="time"))
