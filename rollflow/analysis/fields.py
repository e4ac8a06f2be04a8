"""Derived fields of 2D periodic flow: velocity ↔ vorticity, kinetic energy, enstrophy.

Conventions (docs/physics.md): x is the first spatial axis, y the second, nodes
x_j = j·L/N on [0, L) (L from the coordinate spacing, else attr `flow_domain_size`, else
2π). Angular wavenumbers k = 2π/L · integer. Stream function ψ with ∇²ψ = −ω, i.e.
ψ_hat = ω_hat / |k|² (ψ_hat = 0 at k = 0); u = ∂_y ψ, v = −∂_x ψ, so that
ω = ∂_x v − ∂_y u. Derivatives are spectral; the Nyquist wavenumber of an even grid gets a
zero derivative (its mode sin/cos(N x/2) has no resolvable slope on the nodes), so the
Nyquist row/column of ω carries no velocity.

All functions take DataArrays with named dims `x`, `y` (any other dims are kept, lazily
for dask-backed input) and reduce or transform only those two.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import xarray as xr

from rollflow.analysis._checks import (
    check_same_grid, in_frame_blocks, require_dims, require_finite, single_chunk, spectral_grid,
)
from rollflow.conventions import VORTICITY, X, Y

__all__ = [
    "velocity_from_vorticity", "vorticity_from_velocity", "kinetic_energy", "enstrophy",
    "derivative_wavenumbers", "velocity_hat_kernel", "flow_statistics"]


def derivative_wavenumbers(k: np.ndarray) -> np.ndarray:
    """Copy of the 1-D angular wavenumbers `k` with the Nyquist entry (even N) set to 0."""
    k = np.array(k, dtype=float)
    if k.size % 2 == 0:
        k[k.size // 2] = 0.0
    return k


def velocity_hat_kernel(vorticity: np.ndarray, kx: np.ndarray,
                        ky: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fourier coefficients (numpy `fft2` convention) of u, v from ω of shape (..., Nx, Ny)."""
    w_hat = np.fft.fft2(vorticity, axes=(-2, -1))
    k2 = kx[:, None] ** 2 + ky[None, :] ** 2
    psi_hat = np.divide(w_hat, k2, out=np.zeros_like(w_hat), where=k2 > 0)
    dkx, dky = derivative_wavenumbers(kx), derivative_wavenumbers(ky)
    return 1j * dky[None, :] * psi_hat, -1j * dkx[:, None] * psi_hat


def _velocity_kernel(vorticity: np.ndarray, kx: np.ndarray,
                     ky: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u_hat, v_hat = velocity_hat_kernel(vorticity, kx, ky)
    dtype = np.result_type(vorticity.dtype, np.float32)
    u = np.fft.ifft2(u_hat, axes=(-2, -1)).real.astype(dtype)
    v = np.fft.ifft2(v_hat, axes=(-2, -1)).real.astype(dtype)
    return u, v


def _vorticity_kernel(u: np.ndarray, v: np.ndarray, kx: np.ndarray,
                      ky: np.ndarray) -> np.ndarray:
    dkx, dky = derivative_wavenumbers(kx), derivative_wavenumbers(ky)
    u_hat = np.fft.fft2(u, axes=(-2, -1))
    v_hat = np.fft.fft2(v, axes=(-2, -1))
    w_hat = 1j * dkx[:, None] * v_hat - 1j * dky[None, :] * u_hat
    dtype = np.result_type(u.dtype, v.dtype, np.float32)
    return np.fft.ifft2(w_hat, axes=(-2, -1)).real.astype(dtype)


def velocity_from_vorticity(vorticity: xr.DataArray, *, x: str = X, y: str = Y) -> xr.Dataset:
    """Velocity (u along x, v along y) of a periodic vorticity field, spectrally.

    Args:
        vorticity: ω, 1/t.u., dims (..., x, ..., y, ...); must be finite.
        x, y: names of the first and second spatial dims.

    Returns:
        Dataset with `u` = ∂_y ψ and `v` = −∂_x ψ (L/t.u.), same dims and coords as ω.
        The mean velocity is zero (ψ_hat = 0 at k = 0).
    """
    require_dims(vorticity, (x, y), "vorticity")
    require_finite(vorticity, "vorticity")
    kx, ky, _ = spectral_grid(vorticity, x, y, "vorticity")
    u, v = xr.apply_ufunc(
        partial(in_frame_blocks, _velocity_kernel), single_chunk(vorticity, (x, y)),
        input_core_dims=[[x, y]], output_core_dims=[[x, y], [x, y]],
        kwargs={"kx": kx, "ky": ky}, dask="parallelized",
        output_dtypes=[np.result_type(vorticity.dtype, np.float32)] * 2)
    dims = vorticity.dims
    return xr.Dataset({"u": u.transpose(*dims).assign_attrs(units="L/t.u."),
                       "v": v.transpose(*dims).assign_attrs(units="L/t.u.")},
                      attrs=vorticity.attrs)


def vorticity_from_velocity(u: xr.DataArray, v: xr.DataArray, *, x: str = X,
                            y: str = Y) -> xr.DataArray:
    """Vorticity ω = ∂_x v − ∂_y u of a periodic velocity field, spectrally.

    Args:
        u, v: velocity components along x and y (L/t.u.), same dims and grid.

    Returns:
        ω (1/t.u.) named `vorticity`, with the dims of `u`.
    """
    require_dims(u, (x, y), "u")
    require_dims(v, (x, y), "v")
    check_same_grid(u, v, [d for d in u.dims if d in v.dims], ("u", "v"))
    require_finite(u, "u")
    require_finite(v, "v")
    kx, ky, _ = spectral_grid(u, x, y, "u")
    w = xr.apply_ufunc(
        partial(in_frame_blocks, _vorticity_kernel), single_chunk(u, (x, y)),
        single_chunk(v, (x, y)),
        input_core_dims=[[x, y], [x, y]], output_core_dims=[[x, y]],
        kwargs={"kx": kx, "ky": ky}, dask="parallelized",
        output_dtypes=[np.result_type(u.dtype, v.dtype, np.float32)])
    return w.transpose(*u.dims).rename(VORTICITY).assign_attrs(units="1/t.u.")


def kinetic_energy(vorticity: xr.DataArray, *, x: str = X, y: str = Y) -> xr.DataArray:
    """Mean kinetic energy KE = ½⟨u² + v²⟩ over the domain (L²/t.u.²), from ω.

    The velocity comes from `velocity_from_vorticity`; the spatial mean ⟨·⟩ is over x and y.
    Returns the input without its x, y dims.
    """
    velocity = velocity_from_vorticity(vorticity, x=x, y=y)
    energy = 0.5 * (velocity.u ** 2 + velocity.v ** 2).mean((x, y))
    return energy.rename("kinetic_energy").assign_attrs(units="L²/t.u.²")


def enstrophy(vorticity: xr.DataArray, *, x: str = X, y: str = Y) -> xr.DataArray:
    """Mean enstrophy Z = ½⟨ω²⟩ over the domain (1/t.u.²). Drops the x, y dims."""
    require_dims(vorticity, (x, y), "vorticity")
    require_finite(vorticity, "vorticity")
    z = 0.5 * (vorticity.astype(np.result_type(vorticity.dtype, np.float32)) ** 2).mean((x, y))
    return z.rename("enstrophy").assign_attrs(units="1/t.u.²")


def flow_statistics(vorticity: xr.DataArray) -> dict[str, dict[str, float]]:
    """Kinetic energy (L²/t.u.²) and enstrophy (1/t.u.²) of (sample, time, x, y) vorticity:
    the mean over samples and times, the standard deviation over time averaged over
    samples, and how many samples and frames went in (what `rollflow info` prints)."""
    out = {}
    for name, fn in (("kinetic_energy", kinetic_energy), ("enstrophy", enstrophy)):
        series = np.asarray(fn(vorticity).transpose("sample", "time").values, np.float64)
        out[name] = {"mean": float(series.mean()),
                     "std_over_time": float(series.std(axis=1).mean()),
                     "samples": series.shape[0], "frames": series.shape[1]}
    return out
