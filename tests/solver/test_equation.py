"""Physics of the solver: laminar fixed point, energy budget, orientation, conventions.

Velocity from vorticity (the convention of the whole project): ψ̂ = ω̂ / |k|², u = ∂_y ψ,
v = −∂_x ψ, so that ω = ∂_x v − ∂_y u (x = first array axis, y = second).
"""

import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rollflow.errors import SpecError
from rollflow.solver import advance, integrate, random_initial_vorticity, simulate
from rollflow.solver.equation import FFTS_PER_STEP, StepConfig, make_step_fn, make_velocity_fn
from rollflow.specs import FlowSpec


# ---- numpy helpers (the analysis package is another layer; these are test-local) --------
def _wavenumbers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Angular wavenumbers on [0, 2π): k_x (n, 1) for the full axis, k_y (1, n//2+1) for rfft."""
    return np.fft.fftfreq(n, 1 / n)[:, None], np.fft.rfftfreq(n, 1 / n)[None, :]


def _velocity(vorticity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = vorticity.shape[-1]
    kx, ky = _wavenumbers(n)
    k2 = kx**2 + ky**2
    k2[0, 0] = 1.0
    psi_hat = np.fft.rfft2(vorticity) / k2
    psi_hat[..., 0, 0] = 0.0
    return (np.fft.irfft2(1j * ky * psi_hat, s=(n, n)),
            np.fft.irfft2(-1j * kx * psi_hat, s=(n, n)))


def _curl(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    n = u.shape[-1]
    kx, ky = _wavenumbers(n)
    return np.fft.irfft2(1j * kx * np.fft.rfft2(v) - 1j * ky * np.fft.rfft2(u), s=(n, n))


def _y(n: int) -> np.ndarray:
    return np.arange(n) * 2 * np.pi / n


def _mean(field: np.ndarray) -> np.ndarray:
    return field.mean(axis=(-2, -1))


# ---- conventions --------------------------------------------------------------------------
def test_velocity_convention_matches_solver_and_curl(small_spec):
    omega_hat = np.fft.rfft2(random_initial_vorticity(small_spec, [0])[0].astype(np.float64))
    omega_hat[16, :] = omega_hat[:, 16] = 0.0  # Nyquist modes have no derivative
    omega = np.fft.irfft2(omega_hat, s=(32, 32))
    u, v = _velocity(omega)
    np.testing.assert_allclose(_curl(u, v), omega - omega.mean(), atol=1e-10)
    config = StepConfig.from_spec(small_spec)
    u_jax, v_jax = make_velocity_fn(config)(jnp.fft.rfft2(jnp.asarray(omega, jnp.float32)))
    scale = np.abs(u).max()
    np.testing.assert_allclose(np.asarray(u_jax), u, atol=1e-5 * scale)
    np.testing.assert_allclose(np.asarray(v_jax), v, atol=1e-5 * scale)


def test_step_config_ignores_non_physics_fields_and_checks_periodicity(small_spec):
    same = small_spec.replace(num_frames=99, seed=3, output_size=8, warmup_time=4.0)
    assert StepConfig.from_spec(same) == StepConfig.from_spec(small_spec)
    with pytest.raises(SpecError, match="not periodic"):
        StepConfig.from_spec(small_spec.replace(domain_size=5.0))


def test_fft_count_per_step_matches_compiled_step(small_spec):
    """The benchmark's lower bound uses FFTS_PER_STEP; it must match what XLA runs."""
    config = StepConfig.from_spec(small_spec)
    state = jnp.zeros((32, 17), jnp.complex64)
    hlo = jax.jit(make_step_fn(config)).lower(state).compile().as_text()
    types = re.findall(r"fft_type=(\w+)", hlo)
    assert types.count("IRFFT") == FFTS_PER_STEP["irfft2"]
    assert types.count("RFFT") == FFTS_PER_STEP["rfft2"] + FFTS_PER_STEP["rfft2_forcing"]


# ---- physics ------------------------------------------------------------------------------
@pytest.mark.parametrize("wavenumber, amplitude", [(4, 1.0), (2, 0.1)])
def test_laminar_flow_is_the_attractor_at_low_reynolds_number(wavenumber, amplitude):
    """ν = 0.1, α = 0.1: any initial field relaxes to ω = −A k_f cos(k_f y)/(ν k_f² + α).

    The slowest perturbation of the laminar flow decays at ≈ 0.11 per t.u. (measured; slower
    than ν + α = 0.2 because the shear couples modes), so 60 t.u. leave ≈ 5e-5 of it.
    """
    spec = FlowSpec(simulation_size=32, output_size=32, viscosity=0.1, drag=0.1,
                    forcing_wavenumber=wavenumber, forcing_amplitude=amplitude,
                    save_interval=10.0, warmup_time=0.0, max_velocity=2.0,
                    initial_max_velocity=1.0)
    final = advance(spec, random_initial_vorticity(spec, [0, 1]), 60.0)
    laminar = (-amplitude * wavenumber * np.cos(wavenumber * _y(32))
               / (0.1 * wavenumber**2 + 0.1))
    error = np.abs(final - laminar[None, None, :]).max() / np.abs(laminar).max()
    assert error < 1e-3


def test_energy_budget_closes_at_re_1000():
    """dE/dt = ⟨u·F⟩ − 2νZ − 2αE frame by frame (central differences over 0.05 t.u.)."""
    spec = FlowSpec(simulation_size=64, output_size=64, save_interval=0.05, warmup_time=5.0,
                    num_frames=41)
    frames = simulate(spec, [0, 1]).astype(np.float64)
    u, v = _velocity(frames)
    energy = 0.5 * _mean(u**2 + v**2)
    enstrophy = 0.5 * _mean(frames**2)
    injection = spec.forcing_amplitude * _mean(u * np.sin(4 * _y(64)))
    tendency = (energy[:, 2:] - energy[:, :-2]) / (2 * spec.save_interval)
    budget = (injection - 2 * spec.viscosity * enstrophy - 2 * spec.drag * energy)[:, 1:-1]
    residual = np.sqrt(np.mean((tendency - budget) ** 2)) / np.sqrt(np.mean(injection**2))
    assert residual < 0.02
    assert 0.3 < energy.mean() < 3.0  # turbulent, not laminar (laminar E would be ≈ 9.3)


def test_eddy_momentum_flux_is_negative_at_re_1000():
    """Orientation: 2⟨u′v′ cos 4y⟩ < 0 (eddies draw energy from the mean shear); the
    mirrored field (y → −y) flips it, so the check sees a swapped axis or sign."""
    spec = FlowSpec(simulation_size=32, output_size=32, save_interval=0.5, warmup_time=10.0,
                    num_frames=11)
    frames = simulate(spec, [0, 1]).astype(np.float64)

    def flux(omega):
        u, v = _velocity(omega)
        u_eddy = u - u.mean(axis=-2, keepdims=True)  # minus the x-average
        v_eddy = v - v.mean(axis=-2, keepdims=True)
        return 2 * _mean(u_eddy * v_eddy * np.cos(4 * _y(omega.shape[-1])))

    assert (flux(frames).mean(axis=1) < 0).all()
    mirrored = -np.roll(frames[..., ::-1], 1, axis=-1)  # ω(x, −y) of the mirrored flow
    assert (flux(mirrored).mean(axis=1) > 0).all()


def test_mean_vorticity_stays_zero(small_spec):
    frames = integrate(small_spec, random_initial_vorticity(small_spec, [0, 1]), 12)
    scale = np.abs(frames).max()
    assert np.abs(_mean(frames)).max() < 1e-5 * scale
