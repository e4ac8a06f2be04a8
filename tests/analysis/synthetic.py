"""Synthetic fields (helpers imported by the tests) on the rollflow grid (nodes x_j = j·L/N) for the analysis tests."""

import numpy as np
import xarray as xr


def grid(n: int, length: float = 2 * np.pi) -> np.ndarray:
    return np.arange(n) * length / n


def field(values: np.ndarray, dims=("sample", "time", "x", "y"), length=2 * np.pi,
          dt: float = 0.2) -> xr.DataArray:
    """Wrap an array as a DataArray with node coordinates on x, y and times on time."""
    coords = {}
    for dim, size in zip(dims, values.shape):
        if dim in ("x", "y"):
            coords[dim] = grid(size, length)
        elif dim in ("time", "lead_time"):
            coords[dim] = np.arange(size) * dt
        elif dim == "sample":
            coords[dim] = np.arange(size)
    return xr.DataArray(values, dims=dims, coords=coords, name="vorticity")


def power_law_vorticity(n: int, slope: float, rng: np.random.Generator,
                        lead=(2,)) -> np.ndarray:
    """Real fields whose per-shell energy is ∝ k^slope (random phases, exact amplitudes)."""
    noise_hat = np.fft.fft2(rng.standard_normal((*lead, n, n)), axes=(-2, -1))
    k = np.fft.fftfreq(n, 1.0 / n)
    kk = np.hypot(k[:, None], k[None, :])
    # shell energy E ∝ k^slope, ~2πk modes per shell, |ω̂|² = k²|û|²  →  |ω̂| ∝ k^((slope+1)/2)
    amplitude = np.where(kk > 0, kk, 1.0) ** ((slope + 1) / 2) * (kk > 0)
    w_hat = noise_hat / np.abs(noise_hat) * amplitude
    return np.fft.ifft2(w_hat, axes=(-2, -1)).real
