"""Spectral error per wavenumber band, frame by frame (issue 16's lead-time panels).

A forecast can keep ρ high while losing its small scales (blurring) or piling energy up
at them (a blow-up in the making). Per frame and per octave band of shells
b = [s, 2s − 1] (s = 1, 2, 4, …, capped at the last full shell n/2 − 1), with E(k) the
isotropic energy spectrum (`spectra.energy_spectrum`):

    E_b = Σ_{k ∈ b} E(k),    error_b = mean over members of |ln(E_b,member / E_b,truth)|

— dimensionless, symmetric in too much and too little energy (ln 2 ≈ 0.69: a factor 2),
0 for a member with the truth's band energies. Pure numpy/xarray.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rollflow.analysis._checks import require_dims
from rollflow.analysis.spectra import energy_spectrum
from rollflow.conventions import K, MEMBER, X, Y

__all__ = ["BAND", "octave_bands", "band_label", "band_energy", "band_spectral_error",
           "band_error_of_spectra"]

BAND = "band"


def octave_bands(grid_size: int) -> list[tuple[int, int]]:
    """Shell ranges [lo, hi] (inclusive) of the octave bands on an n² grid: (1, 1),
    (2, 3), (4, 7), … up to shell n/2 − 1 (the last full shell)."""
    last = grid_size // 2 - 1
    if last < 1:
        raise ValueError(f"a {grid_size}² grid has no full wavenumber shell")
    bands, lo = [], 1
    while lo <= last:
        bands.append((lo, min(2 * lo - 1, last)))
        lo *= 2
    return bands


def band_label(band: tuple[int, int]) -> str:
    """"k1", "k2-3", …: the shells of a band (wavenumbers when the domain is 2π)."""
    lo, hi = band
    return f"k{lo}" if lo == hi else f"k{lo}-{hi}"


def band_energy(spectrum: xr.DataArray, grid_size: int) -> xr.DataArray:
    """E summed over each octave band's shells: (…, k) → (…, band), band labelled."""
    k = spectrum[K].values
    shells = np.rint(k / k[1]).astype(int)          # shell s sits at k = s·2π/L, k[0] = 0
    parts = [spectrum.isel({K: np.flatnonzero((shells >= lo) & (shells <= hi))}).sum(K)
             for lo, hi in octave_bands(grid_size)]
    labels = [band_label(b) for b in octave_bands(grid_size)]
    return xr.concat(parts, dim=BAND).assign_coords({BAND: labels})


def band_spectral_error(forecast: xr.DataArray, truth: xr.DataArray, *,
                        member_dim: str = MEMBER) -> xr.DataArray:
    """Per-frame octave-band spectral error (module docstring) of each forecast frame
    against the truth frame at the same coordinates.

    Args:
        forecast: (…, member, …, x, y) vorticity, e.g. (sample, member, time, x, y).
        truth: the same without the member dim, aligned.

    Returns:
        (…, band) without member, x, y: mean over members of |ln(E_b / E_b,truth)|.
    """
    require_dims(forecast, (member_dim, X, Y), "forecast")
    return band_error_of_spectra(energy_spectrum(forecast), energy_spectrum(truth),
                                 forecast.sizes[X], member_dim=member_dim)


def band_error_of_spectra(forecast: xr.DataArray, truth: xr.DataArray, grid_size: int, *,
                          member_dim: str = MEMBER) -> xr.DataArray:
    """`band_spectral_error` from per-frame spectra E(k) already computed (forecast with,
    truth without `member_dim`), for a caller that needs the spectra too."""
    e_f, e_t = band_energy(forecast, grid_size), band_energy(truth, grid_size)
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.abs(np.log(e_f / e_t)).mean(member_dim)
    return error.rename("spectral_error").assign_attrs(
        units="1", long_name="|ln(band energy / truth's)|, mean over members",
        bands="octaves of shells: " + ", ".join(band_label(b)
                                                for b in octave_bands(grid_size)))
