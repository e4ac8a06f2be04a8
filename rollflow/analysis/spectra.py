"""Isotropic energy and enstrophy spectra on integer shells, and a log-spectral error.

Shells: with angular wavenumbers k = 2π/L · (integer vector) and k₀ = 2π/L, shell number
s ≥ 0 collects every Fourier mode with |k|/k₀ in [s − ½, s + ½). The output dim `k` holds
the shell centres s·k₀ (integers for L = 2π) for s = 0 … round(|k|_max/k₀), corners
included, so nothing is lost.

Normalisation (Parseval, numpy `fft2` convention on an N×N grid):

    E(k_s) = Σ_{modes in shell s} ½ (|û|² + |v̂|²) / N⁴,   Σ_s E(k_s) = ½⟨u² + v²⟩ = KE
    Z(k_s) = Σ_{modes in shell s} ½ |ω̂|² / N⁴,            Σ_s Z(k_s) = ½⟨ω²⟩     = Z

so each value is the energy (enstrophy) *per shell*, not a density; with L = 2π the shell
width is 1 and the two coincide. The velocity is that of `velocity_from_vorticity`
(Nyquist row/column carry no velocity). Units: E in L²/t.u.², Z in 1/t.u.².
"""

from __future__ import annotations

from functools import partial

import numpy as np
import scipy.sparse
import xarray as xr

from rollflow.analysis._checks import (
    align_exact, as_dims, in_frame_blocks, require_dims, require_finite, single_chunk,
    spectral_grid,
)
from rollflow.analysis.fields import velocity_hat_kernel
from rollflow.conventions import K, X, Y
from rollflow.errors import DataError

__all__ = ["energy_spectrum", "enstrophy_spectrum", "log_spectral_error", "spectral_slope",
           "shell_index"]


def shell_index(kx: np.ndarray, ky: np.ndarray, k0: float) -> np.ndarray:
    """Shell number s = ⌊|k|/k₀ + ½⌋ of every mode, shape (len(kx), len(ky)), int."""
    magnitude = np.hypot(kx[:, None], ky[None, :]) / k0
    return np.floor(magnitude + 0.5).astype(int)


def _shell_sum_kernel(density: np.ndarray, shells: np.ndarray, num_shells: int) -> np.ndarray:
    """Sum `density` (..., Nx, Ny) over each shell → (..., num_shells)."""
    lead = density.shape[:-2]
    flat = density.reshape(-1, shells.size)
    members = scipy.sparse.csr_matrix(
        (np.ones(shells.size), (shells.ravel(), np.arange(shells.size))),
        shape=(num_shells, shells.size))
    return np.asarray(members @ flat.T).T.reshape(*lead, num_shells)


def _energy_kernel(vorticity: np.ndarray, kx: np.ndarray, ky: np.ndarray, k0: float,
                   num_shells: int) -> np.ndarray:
    u_hat, v_hat = velocity_hat_kernel(vorticity.astype(float), kx, ky)
    n4 = float(kx.size * ky.size) ** 2
    density = 0.5 * (np.abs(u_hat) ** 2 + np.abs(v_hat) ** 2) / n4
    return _shell_sum_kernel(density, shell_index(kx, ky, k0), num_shells)


def _enstrophy_kernel(vorticity: np.ndarray, kx: np.ndarray, ky: np.ndarray, k0: float,
                      num_shells: int) -> np.ndarray:
    w_hat = np.fft.fft2(vorticity.astype(float), axes=(-2, -1))
    n4 = float(kx.size * ky.size) ** 2
    density = 0.5 * np.abs(w_hat) ** 2 / n4
    return _shell_sum_kernel(density, shell_index(kx, ky, k0), num_shells)


def _spectrum(kernel, vorticity: xr.DataArray, average_dims, x: str, y: str,
              name: str, units: str, long_name: str) -> xr.DataArray:
    require_dims(vorticity, (x, y), "vorticity")
    average_dims = as_dims(average_dims)
    require_dims(vorticity, average_dims, "vorticity (average_dims)")
    require_finite(vorticity, "vorticity")
    kx, ky, k0 = spectral_grid(vorticity, x, y, "vorticity")
    num_shells = int(shell_index(kx, ky, k0).max()) + 1
    spectrum = xr.apply_ufunc(
        partial(in_frame_blocks, kernel), single_chunk(vorticity, (x, y)),
        input_core_dims=[[x, y]], output_core_dims=[[K]],
        kwargs={"kx": kx, "ky": ky, "k0": k0, "num_shells": num_shells},
        dask="parallelized", output_dtypes=[float],
        dask_gufunc_kwargs={"output_sizes": {K: num_shells}})
    spectrum = spectrum.assign_coords({K: k0 * np.arange(num_shells)})
    spectrum[K].attrs.update(long_name="isotropic wavenumber shell centre", units="1/L")
    if average_dims:
        spectrum = spectrum.mean(average_dims)
    # The input's attrs (long_name "vorticity", its description) do not describe E(k).
    spectrum.attrs = {"long_name": long_name, "units": units}
    return spectrum.rename(name)


def energy_spectrum(vorticity: xr.DataArray, *, average_dims: str | tuple[str, ...] = (),
                    x: str = X, y: str = Y) -> xr.DataArray:
    """Isotropic kinetic-energy spectrum E(k) per integer shell, from vorticity.

    Args:
        vorticity: ω (1/t.u.) with dims x, y and any leading dims (sample, time, member, …).
        average_dims: dims to average the spectrum over afterwards (e.g. "time" for a
            time-averaged spectrum, or ("sample", "time")).
        x, y: names of the first and second spatial dims.

    Returns:
        E with dims (other dims…, k), k = shell centres s·2π/L. Σ_k E(k) equals the mean
        kinetic energy ½⟨u² + v²⟩ of each field (Parseval; see the module docstring).
    """
    return _spectrum(_energy_kernel, vorticity, average_dims, x, y,
                     "energy_spectrum", "L²/t.u.² per shell",
                     "isotropic kinetic-energy spectrum E(k)")


def enstrophy_spectrum(vorticity: xr.DataArray, *, average_dims: str | tuple[str, ...] = (),
                       x: str = X, y: str = Y) -> xr.DataArray:
    """Isotropic enstrophy spectrum Z(k) per shell; Σ_k Z(k) = ½⟨ω²⟩ (see `energy_spectrum`)."""
    return _spectrum(_enstrophy_kernel, vorticity, average_dims, x, y,
                     "enstrophy_spectrum", "1/t.u.² per shell",
                     "isotropic enstrophy spectrum Z(k)")


def log_spectral_error(prediction: xr.DataArray, truth: xr.DataArray, *, dim: str = K,
                       k_min: float = 1.0, k_max: float | None = None) -> xr.DataArray:
    """Root-mean-square log₁₀ ratio of two spectra over shells k_min ≤ k ≤ k_max.

        LSE = sqrt( mean_k [log₁₀ E_pred(k) − log₁₀ E_true(k)]² )

    Args:
        prediction, truth: spectra with dim `dim` and identical `k` coordinates (other dims
            broadcast, e.g. a `model` dim on the prediction).
        k_min, k_max: shell range (same units as the `k` coordinate); default k ≥ 1 (the
            k = 0 shell holds no energy) up to the largest shell.

    Returns:
        Dimensionless error (0 for identical spectra; 1 ≈ a factor of 10 per shell), with the
        `dim` reduced. A shell where one spectrum is 0 and the other is not gives +inf.
    """
    require_dims(prediction, dim, "prediction spectrum")
    require_dims(truth, dim, "truth spectrum")
    align_exact(prediction, truth, ("prediction spectrum", "truth spectrum"))
    require_finite(prediction, "prediction spectrum")
    require_finite(truth, "truth spectrum")
    if bool((prediction < 0).any()) or bool((truth < 0).any()):
        raise DataError("spectra must be non-negative")
    k = truth[dim]
    keep = (k >= k_min) if k_max is None else (k >= k_min) & (k <= k_max)
    if not bool(keep.any()):
        raise DataError(f"no shells in [{k_min}, {k_max}] along {dim!r}")
    pred, true = prediction.sel({dim: keep}), truth.sel({dim: keep})
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.log10(pred) - np.log10(true)
    diff = diff.where(~((pred == 0) & (true == 0)), 0.0)  # both empty: no error
    return np.sqrt((diff ** 2).mean(dim)).rename("log_spectral_error")


def _slope_kernel(values: np.ndarray, log_k: np.ndarray) -> np.ndarray:
    log_e = np.log(values)
    centred = log_k - log_k.mean()
    return ((log_e - log_e.mean(axis=-1, keepdims=True)) * centred).sum(-1) / (centred ** 2).sum()


def spectral_slope(spectrum: xr.DataArray, *, k_min: float, k_max: float,
                   dim: str = K) -> xr.DataArray:
    """Least-squares slope of log E against log k over shells k_min ≤ k ≤ k_max.

    Args:
        spectrum: e.g. from `energy_spectrum`, positive on the chosen shells.
        k_min, k_max: inclusive shell range in the units of the `k` coordinate (> 0).

    Returns:
        The exponent β of E ∝ k^β (dimensionless), `dim` reduced.
    """
    require_dims(spectrum, dim, "spectrum")
    require_finite(spectrum, "spectrum")
    band = spectrum.sel({dim: (spectrum[dim] >= k_min) & (spectrum[dim] <= k_max)})
    if k_min <= 0 or band.sizes[dim] < 2:
        raise DataError(f"need k_min > 0 and at least 2 shells in [{k_min}, {k_max}]")
    if bool((band <= 0).any()):
        raise DataError(f"spectrum must be > 0 on the shells in [{k_min}, {k_max}]")
    log_k = np.log(np.asarray(band[dim].values, dtype=float))
    slope = xr.apply_ufunc(_slope_kernel, single_chunk(band, [dim]), input_core_dims=[[dim]],
                           kwargs={"log_k": log_k}, dask="parallelized", output_dtypes=[float])
    return slope.rename("spectral_slope")
