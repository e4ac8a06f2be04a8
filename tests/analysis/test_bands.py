"""Per-frame spectral error per octave band: the bands, Parseval per band, and errors of
fields with known band energies."""

import numpy as np
import pytest
import xarray as xr

from rollflow.analysis.bands import band_energy, band_spectral_error, octave_bands
from rollflow.analysis.fields import kinetic_energy
from rollflow.analysis.spectra import energy_spectrum


def test_octave_bands_cover_every_full_shell_once():
    assert octave_bands(32) == [(1, 1), (2, 3), (4, 7), (8, 15)]
    assert octave_bands(8) == [(1, 1), (2, 3)]
    assert octave_bands(64)[-1] == (16, 31)
    with pytest.raises(ValueError, match="no full wavenumber shell"):
        octave_bands(2)


def _field(rng, n=32, frames=3, loud=1.0):
    """Shells 3 and 6 with per-frame amplitudes; the shell-6 part × `loud`."""
    coords = {"x": 2 * np.pi * np.arange(n) / n, "y": 2 * np.pi * np.arange(n) / n}
    x = coords["x"]
    amplitude = 1 + 0.1 * rng.standard_normal((frames, 1, 1))
    values = amplitude * (np.cos(3 * x)[:, None] + loud * 0.5 * np.sin(6 * x)[None, :])
    return xr.DataArray(values, dims=("time", "x", "y"), coords=coords)


def test_band_energies_add_up_to_the_kinetic_energy(rng):
    """Parseval per band: a field of shells 3 and 6 only has all its KE in bands k2-3 and
    k4-7 (float64 FFT sums: relative error ~ 1e-15, asserted at 1e-12)."""
    w = _field(rng)
    bands = band_energy(energy_spectrum(w), 32)
    assert list(bands.band.values) == ["k1", "k2-3", "k4-7", "k8-15"]
    np.testing.assert_allclose(bands.sum("band"), kinetic_energy(w), rtol=1e-12)
    np.testing.assert_allclose(bands.sel(band=["k1", "k8-15"]), 0.0, atol=1e-12)


def test_band_error_is_the_log_ratio_of_band_energies(rng):
    """A member with the truth's field scores 0; one with its shell-6 part doubled
    (E × 4 in band k4-7) scores ln 4 there and 0 elsewhere; the members' mean is taken."""
    truth = _field(np.random.default_rng(1))
    louder = _field(np.random.default_rng(1), loud=2.0)
    forecast = xr.concat([truth, louder], dim="member")
    error = band_spectral_error(forecast, truth)
    assert set(error.dims) == {"time", "band"}
    np.testing.assert_allclose(error.sel(band="k4-7"), 0.5 * np.log(4), rtol=1e-9)
    np.testing.assert_allclose(error.sel(band="k2-3"), 0.0, atol=1e-9)
