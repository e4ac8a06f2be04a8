"""Velocity ↔ vorticity, kinetic energy and enstrophy on exact fields."""

import numpy as np
import pytest
import xarray as xr
from synthetic import field, grid

from rollflow.analysis import (
    enstrophy, kinetic_energy, velocity_from_vorticity, vorticity_from_velocity,
)
from rollflow.errors import DataError


def _xy(n, length=2 * np.pi):
    x = grid(n, length)
    return np.meshgrid(x, x, indexing="ij")


def test_orientation_cos_x_gives_v_only():
    """ω = cos x → ψ = cos x, u = ∂_y ψ = 0, v = −∂_x ψ = sin x (x is the first axis)."""
    x, _ = _xy(16)
    w = field(np.cos(x), dims=("x", "y"))
    vel = velocity_from_vorticity(w)
    np.testing.assert_allclose(vel.u.values, 0, atol=1e-12)
    np.testing.assert_allclose(vel.v.values, np.sin(x), atol=1e-12)


def test_single_mode_energy_and_enstrophy_exact():
    x, y = _xy(32)
    w = field(2.0 * np.cos(3 * x + 4 * y), dims=("x", "y"))
    # ψ = ω/25, u = ∂_yψ, v = −∂_xψ: ½⟨u²+v²⟩ = ½·(16+9)·4/625·½ = 0.04; Z = ½·4·½ = 1
    assert float(kinetic_energy(w)) == pytest.approx(0.04, rel=1e-12)
    assert float(enstrophy(w)) == pytest.approx(1.0, rel=1e-12)


def test_round_trip_for_resolved_zero_mean_field(rng):
    x, y = _xy(32)
    w = sum(rng.standard_normal() * np.cos(a * x + b * y + rng.uniform(0, 6))
            for a, b in [(1, 2), (3, -5), (0, 4), (7, 1)])
    da = field(w, dims=("x", "y"))
    vel = velocity_from_vorticity(da)
    back = vorticity_from_velocity(vel.u, vel.v)
    np.testing.assert_allclose(back.values, w, atol=1e-10)
    assert back.dims == da.dims


def test_domain_length_from_coordinates():
    """On L = 1 the same pattern has k = 2π·3, so ψ is (2π)² times smaller."""
    n = 16
    x, _ = _xy(n, length=1.0)
    w = field(np.cos(2 * np.pi * 3 * x), dims=("x", "y"), length=1.0)
    vel = velocity_from_vorticity(w)
    np.testing.assert_allclose(vel.v.values, np.sin(2 * np.pi * 3 * x) / (2 * np.pi * 3),
                               atol=1e-12)


def test_domain_length_from_attrs_without_coords():
    n = 16
    x, _ = _xy(n, length=1.0)
    w = xr.DataArray(np.cos(2 * np.pi * x), dims=("x", "y"),
                     attrs={"flow_domain_size": 1.0})
    np.testing.assert_allclose(velocity_from_vorticity(w).v.values,
                               np.sin(2 * np.pi * x) / (2 * np.pi), atol=1e-12)


def test_transposed_input_same_answer(rng):
    w = field(rng.standard_normal((2, 3, 16, 16)))
    a = kinetic_energy(w)
    b = kinetic_energy(w.transpose("y", "time", "x", "sample"))
    xr.testing.assert_allclose(a, b.transpose(*a.dims))
    vel = velocity_from_vorticity(w.transpose("y", "x", "sample", "time"))
    assert vel.u.dims == ("y", "x", "sample", "time")


def test_lazy_input_same_answer(rng):
    w = field(rng.standard_normal((3, 2, 16, 16)))
    lazy = w.chunk({"sample": 1, "x": 8})
    for fn in (kinetic_energy, enstrophy):
        out = fn(lazy)
        assert out.chunks is not None
        xr.testing.assert_allclose(fn(w), out.compute())
    vel = velocity_from_vorticity(lazy)
    xr.testing.assert_allclose(velocity_from_vorticity(w), vel.compute())
    back = vorticity_from_velocity(vel.u, vel.v.chunk({"time": 1}))
    assert back.chunks is not None
    eager = velocity_from_vorticity(w)
    xr.testing.assert_allclose(vorticity_from_velocity(eager.u, eager.v), back.compute())


def test_bad_input_errors():
    w = field(np.zeros((4, 4)), dims=("x", "y"))
    with pytest.raises(DataError, match="missing dim 'y'"):
        kinetic_energy(w.rename(y="z"))
    with pytest.raises(DataError, match="non-finite"):
        enstrophy(w.where(w.x > 0))
    with pytest.raises(DataError, match="not uniformly"):
        kinetic_energy(w.assign_coords(x=[0.0, 1.0, 3.0, 4.0]))
    with pytest.raises(DataError, match="different 'x'"):
        vorticity_from_velocity(w, w.assign_coords(x=w.x + 0.1))



def test_many_frames_give_what_few_frames_give():
    """Spectral kernels run a block of frames per FFT call (analysis._checks): 600 frames
    (three blocks) give what slices of 100 frames (one call each) give. Each frame's FFT is
    the same float64 arithmetic either way; only another SIMD grouping of rows could round
    differently: ≲ eps₆₄·log₂N relative before the float32 cast of u, v, so at most one
    float32 ulp there (bound 2⁻²³ of the largest value) and 1e-12 relative for E(k)."""
    from rollflow.analysis import energy_spectrum, velocity_from_vorticity

    n = 8
    coords = {"x": 2 * np.pi * np.arange(n) / n, "y": 2 * np.pi * np.arange(n) / n}
    values = np.random.default_rng(0).standard_normal((2, 300, n, n)).astype(np.float32)
    w = xr.DataArray(values, dims=("sample", "time", "x", "y"), coords=coords)
    whole = velocity_from_vorticity(w)
    parts = xr.concat([velocity_from_vorticity(w.isel(time=slice(i, i + 100)))
                       for i in range(0, 300, 100)], dim="time")
    for name in ("u", "v"):
        np.testing.assert_allclose(whole[name].values, parts[name].values, rtol=0,
                                   atol=2.0 ** -23 * float(abs(parts[name]).max()))
    spectrum = energy_spectrum(w).values
    pieces = np.concatenate([energy_spectrum(w.isel(time=slice(i, i + 100))).values
                             for i in range(0, 300, 100)], axis=1)
    np.testing.assert_allclose(spectrum, pieces, rtol=0, atol=1e-12 * np.abs(pieces).max())
