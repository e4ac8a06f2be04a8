"""Spectra: Parseval, single modes land in their shell, prescribed power laws."""

import numpy as np
import pytest
import xarray as xr
from synthetic import field, grid, power_law_vorticity

from rollflow.analysis import (
    energy_spectrum, enstrophy, enstrophy_spectrum, kinetic_energy, log_spectral_error,
    spectral_slope,
)
from rollflow.errors import DataError


@pytest.mark.parametrize("n", [16, 33, 64])
def test_parseval_on_random_fields(rng, n):
    w = field(rng.standard_normal((3, 2, n, n)))
    energy = energy_spectrum(w).sum("k")
    np.testing.assert_allclose(energy.values, kinetic_energy(w).values, rtol=1e-6)
    np.testing.assert_allclose(enstrophy_spectrum(w).sum("k").values,
                               enstrophy(w).values, rtol=1e-6)


@pytest.mark.parametrize("mode, shell", [((3, 4), 5), ((1, 1), 1), ((2, 2), 3), ((0, 7), 7),
                                         ((-5, 2), 5)])
def test_single_mode_lands_in_its_shell(mode, shell):
    n = 32
    x = grid(n)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    kx, ky = mode
    w = field(1.5 * np.sin(kx * xx + ky * yy + 0.3), dims=("x", "y"))
    spectrum = energy_spectrum(w)
    expected = 0.5 * 1.5 ** 2 * 0.5 / (kx ** 2 + ky ** 2)  # ½⟨|u|²⟩ = ½·a²/|k|²·½
    assert float(spectrum.sel(k=shell)) == pytest.approx(expected, rel=1e-10)
    assert float(spectrum.sum("k")) == pytest.approx(expected, rel=1e-10)
    z = enstrophy_spectrum(w)
    assert float(z.sel(k=shell)) == pytest.approx(0.5 * 1.5 ** 2 * 0.5, rel=1e-10)


def test_shell_coordinate_follows_domain_length():
    n, length = 16, 1.0
    x = grid(n, length)
    xx, _ = np.meshgrid(x, x, indexing="ij")
    w = field(np.cos(2 * np.pi * 3 * xx), dims=("x", "y"), length=length)
    spectrum = energy_spectrum(w)
    assert float(spectrum.idxmax("k")) == pytest.approx(2 * np.pi * 3)
    assert float(spectrum.sum("k")) == pytest.approx(float(kinetic_energy(w)), rel=1e-10)


@pytest.mark.parametrize("slope", [-3.0, -5.0 / 3.0, -4.0])
def test_power_law_slope_recovered(rng, slope):
    n = 128
    w = field(power_law_vorticity(n, slope, rng, lead=(4,)), dims=("sample", "x", "y"))
    spectrum = energy_spectrum(w, average_dims="sample")
    band = spectrum.sel(k=slice(4, n // 3))
    fitted = np.polyfit(np.log(band.k.values), np.log(band.values), 1)[0]
    assert fitted == pytest.approx(slope, abs=0.05)
    assert float(spectral_slope(spectrum, k_min=4, k_max=n // 3)) == pytest.approx(fitted)
    per_sample = spectral_slope(energy_spectrum(w.chunk({"sample": 2})), k_min=4, k_max=n // 3)
    assert per_sample.dims == ("sample",)
    np.testing.assert_allclose(per_sample.values, slope, atol=0.15)


def test_time_average_and_lazy(rng):
    w = field(rng.standard_normal((2, 5, 16, 16)))
    eager = energy_spectrum(w, average_dims="time")
    assert eager.dims == ("sample", "k")
    xr.testing.assert_allclose(eager, energy_spectrum(w).mean("time"))
    lazy = energy_spectrum(w.chunk({"time": 2, "y": 4}), average_dims="time")
    assert lazy.chunks is not None
    xr.testing.assert_allclose(eager, lazy.compute())
    xr.testing.assert_allclose(enstrophy_spectrum(w), enstrophy_spectrum(w.chunk()).compute())


def test_transposed_input_gives_same_spectrum(rng):
    w = field(rng.standard_normal((2, 16, 16)), dims=("time", "x", "y"))
    a = energy_spectrum(w)
    b = energy_spectrum(w.transpose("y", "x", "time"))
    xr.testing.assert_allclose(a, b.transpose(*a.dims))


def test_log_spectral_error():
    k = np.arange(6.0)
    truth = xr.DataArray(np.r_[0.0, 1.0, 0.5, 0.2, 0.1, 0.05], dims="k", coords={"k": k})
    assert float(log_spectral_error(truth, truth)) == 0.0
    assert float(log_spectral_error(10 * truth, truth)) == pytest.approx(1.0)
    assert float(log_spectral_error(truth * 100, truth, k_max=2)) == pytest.approx(2.0)
    models = xr.concat([truth, 10 * truth], dim="model")
    np.testing.assert_allclose(log_spectral_error(models, truth).values, [0.0, 1.0])
    lazy = log_spectral_error(models.chunk(), truth)
    np.testing.assert_allclose(lazy.values, [0.0, 1.0])
    zero_tail = truth.where(truth.k < 5, 0.0)
    assert np.isinf(float(log_spectral_error(zero_tail, truth)))


def test_spectrum_errors(rng):
    w = field(rng.standard_normal((2, 8, 8)), dims=("time", "x", "y"))
    with pytest.raises(DataError, match="missing dim 'x'"):
        energy_spectrum(w.rename(x="lon"))
    with pytest.raises(DataError, match="average_dims"):
        energy_spectrum(w, average_dims="sample")
    with pytest.raises(DataError, match="non-finite"):
        energy_spectrum(w.where(w > 0))
    with pytest.raises(DataError, match="not square"):
        energy_spectrum(w.assign_coords(x=w.x * 2))
    spectrum = energy_spectrum(w)
    with pytest.raises(DataError, match="at least 2 shells"):
        spectral_slope(spectrum, k_min=2.5, k_max=2.7)
    with pytest.raises(DataError, match="different 'k'"):
        log_spectral_error(spectrum, spectrum.assign_coords(k=spectrum.k * 2))


def test_spectrum_attrs_describe_the_spectrum_not_the_input(rng):
    """Bug: the spectrum's long_name was copied from the input ("vorticity")."""
    from rollflow.analysis import energy_spectrum, enstrophy_spectrum

    from synthetic import field, power_law_vorticity

    omega = field(power_law_vorticity(16, -3.0, rng, lead=(2, 3)))
    omega.attrs.update(long_name="vorticity", description="curl of velocity")
    e, z = energy_spectrum(omega, average_dims="time"), enstrophy_spectrum(omega)
    assert e.attrs == {"long_name": "isotropic kinetic-energy spectrum E(k)",
                       "units": "L²/t.u.² per shell"}
    assert z.attrs["long_name"].startswith("isotropic enstrophy") and "description" not in z.attrs
