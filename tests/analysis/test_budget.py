"""Physics checks: the energy budget closes exactly on exact solutions, converges at second
order in the frame spacing, and the checks catch negated, mirrored and mislabelled flows."""

import numpy as np
import pytest
import xarray as xr

from rollflow.analysis.budget import check_messages, eddy_momentum_flux, physics_checks

N, K = 32, 4


def _field(values: np.ndarray, dt: float = 0.1) -> xr.DataArray:
    """(sample, time, x, y) vorticity on the node grid of [0, 2π)²."""
    nodes = 2 * np.pi * np.arange(N) / N
    return xr.DataArray(values, dims=("sample", "time", "x", "y"),
                        coords={"sample": np.arange(values.shape[0]),
                                "time": dt * np.arange(values.shape[1]), "x": nodes, "y": nodes})


def _relaxing(nu: float, alpha: float, start: float, times: np.ndarray) -> np.ndarray:
    """ω(y, t) = c(t) cos(K y), an exact solution (no nonlinearity for one y-mode):
    c relaxes from `start` to the laminar −K/(νK² + α) at rate νK² + α."""
    rate = nu * K**2 + alpha
    laminar = -K / rate
    c = laminar + (start - laminar) * np.exp(-rate * times)
    y = 2 * np.pi * np.arange(N) / N
    return c[:, None, None] * np.cos(K * y)[None, None, :] * np.ones((1, N, 1))


def _checks(w, nu, alpha=0.1, dt=0.1):
    return physics_checks(w, viscosity=nu, drag=alpha, forcing_wavenumber=K, save_interval=dt)


def test_the_laminar_state_balances_to_round_off_and_a_wrong_label_by_its_formula():
    nu, alpha = 0.1, 0.1
    w = _field(_relaxing(nu, alpha, -K / (nu * K**2 + alpha), np.zeros(5))[None])
    checks = _checks(w, nu)
    # float64: each of E, Z, P is exact to ~1e-15 relative, so |r| ≲ 1e-13
    assert abs(checks.budget_residual.item()) < 1e-12
    assert abs(checks.eddy_momentum_flux.item()) < 1e-12        # no eddies
    assert check_messages(checks) == []
    # labelled ν' ≠ ν: dE = 0, so r = −2(ν − ν')Z / P exactly
    wrong = _checks(w, 2 * nu)
    expected = -2 * (nu - 2 * nu) * checks.enstrophy.item() / checks.injection.item()
    assert wrong.budget_residual.item() == pytest.approx(expected, rel=1e-12)
    assert "energy budget off by +94" in check_messages(wrong)[0]
    # negated: P → −P, so r = −2 and the injection check speaks first
    negated = _checks(-w, nu)
    assert negated.budget_residual.item() == pytest.approx(-2.0, rel=1e-12)
    assert "injection" in check_messages(negated)[0] and "≤ 0" in check_messages(negated)[0]


def test_the_budget_residual_converges_at_second_order_in_the_frame_spacing():
    """Relaxation towards the laminar state (E changes): the trapezoid rule's error per
    step is ∝ Δt³, so r ∝ Δt² — halving Δt divides it by ≈ 4."""
    nu, alpha, start = 0.1, 0.1, 1.0
    residual = {}
    for dt in (0.1, 0.05):
        times = np.arange(0, 2.0 + dt / 2, dt)
        residual[dt] = _checks(_field(_relaxing(nu, alpha, start, times)[None], dt),
                               nu, dt=dt).budget_residual.item()
    assert residual[0.1] != 0 and 3.5 < residual[0.1] / residual[0.05] < 4.5


def test_mirroring_flips_the_eddy_flux_and_negating_keeps_it():
    rng = np.random.default_rng(0)
    spectrum = np.zeros((N, N), complex)
    spectrum[:6, :6] = rng.normal(size=(6, 6)) + 1j * rng.normal(size=(6, 6))
    w = _field(np.fft.ifft2(spectrum).real[None, None] * 50)
    flux = float(eddy_momentum_flux(w, K).squeeze())
    mirrored = w.copy(data=w.values[..., np.r_[0, np.arange(N - 1, 0, -1)], :])   # x → −x
    assert flux != 0
    assert float(eddy_momentum_flux(mirrored, K).squeeze()) == pytest.approx(-flux, rel=1e-10)
    assert float(eddy_momentum_flux(-w, K).squeeze()) == pytest.approx(flux, rel=1e-10)


def test_an_outlying_sample_is_named():
    nu, alpha = 0.1, 0.1
    laminar = -K / (nu * K**2 + alpha)
    w = np.concatenate([_relaxing(nu, alpha, laminar, np.zeros(3))[None]] * 6)
    w[4] *= 1 + 1e-3 * np.arange(6)[:, None, None, None][4]     # sample 4: slightly larger
    w[[0, 1, 2, 3, 5]] *= (1 + 1e-4 * np.arange(5))[:, None, None, None]
    lines = check_messages(_checks(_field(w), nu), tolerance=1.0)
    assert [line.split(":")[0] for line in lines] == ["sample 4"]
    assert "kinetic energy" in lines[0] and "enstrophy" in lines[0]
