"""The exponax backend solves rollflow's equation: the laminar state exactly, the same
trajectory as jax-cfd where both resolve the flow, and the same orientation."""

import dataclasses

import numpy as np
import pytest

pytest.importorskip("exponax")   # an optional extra; test_specs checks the one-line error

from rollflow.solver import integrate, simulate  # noqa: E402
from rollflow.solver.resample import downsample  # noqa: E402
from rollflow.specs import FlowSpec  # noqa: E402


def _correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=(-2, -1), keepdims=True)
    b = b - b.mean(axis=(-2, -1), keepdims=True)
    return (a * b).sum((-2, -1)) / np.sqrt((a * a).sum((-2, -1)) * (b * b).sum((-2, -1)))


def test_the_laminar_state_is_reached_from_rest():
    """ν = 0.1: ω → −A k_f cos(k_f y)/(ν k_f² + α). After 30 t.u. the slowest decaying part
    is e^{−1.7·30} ≈ 1e-22 of it; the steps run in float64 (their rounding ~1e-15), so what
    remains is the float32 rounding of the stored output, ≤ 2^-24 of |ω| (bound: 2^-23)."""
    import jax

    with jax.enable_x64(True):
        spec = FlowSpec(simulation_size=32, output_size=32, viscosity=0.1, save_interval=0.5,
                        warmup_time=0.0, num_frames=61, num_samples=1, backend="exponax")
        frames = integrate(spec, np.zeros((1, 32, 32), np.float32), 61)
    y = 2 * np.pi * np.arange(32) / 32
    laminar = -4 * np.cos(4 * y) / (0.1 * 16 + 0.1)
    np.testing.assert_allclose(frames[0, -1], np.broadcast_to(laminar, (32, 32)),
                               rtol=0, atol=2.0**-23 * np.abs(laminar).max())


def test_it_follows_jaxcfd_where_both_resolve_the_flow():
    """From one developed 128² state, 0.5 t.u. with each backend: the 32² and 64²
    truncations agree to ρ ≥ 0.9999 / 0.999 (they differ only at the dealiasing edge:
    jax-cfd's 2/3 filter keeps k = −N/3 and drops +N/3), and the advection has the
    orientation of rollflow's equation (exponax's own convection sign would decorrelate
    within 0.1 t.u.). The thresholds are the schemes' difference at the dealiasing edge, not
    rounding: float32 rounding (~1e-7) grows by e^{λ₁·0.5} ≈ 1.35 over the run."""
    spec = FlowSpec(simulation_size=128, output_size=128, save_interval=0.1, warmup_time=10.0,
                    num_frames=1, num_samples=1)
    start = simulate(spec, [0])[:, -1]
    runs = {backend: integrate(dataclasses.replace(spec, warmup_time=0.0, backend=backend),
                               start, 6)[0] for backend in ("jaxcfd", "exponax")}
    assert _correlation(downsample(runs["exponax"], 32), downsample(runs["jaxcfd"], 32)).min() \
        >= 0.9999
    assert _correlation(downsample(runs["exponax"], 64), downsample(runs["jaxcfd"], 64)).min() \
        >= 0.999


@pytest.mark.slow
def test_long_run_statistics_agree_with_jaxcfd():
    """Issue 18: 8 trajectories per backend (DNS 64² → 32², 30 t.u. warm-up, 40 t.u. saved
    every 0.5 t.u.): the time means of KE and enstrophy and the energy spectrum's slope over
    k = 5 … 12 agree within their sampling spread. The samples start from the same fields
    but decorrelate within the warm-up (λ₁ ≈ 0.6/t.u.), so the two sets are independent:
    z = Δ / √(s₁²/8 + s₂²/8) with s the spread of the per-sample values. Under equal
    statistics z follows a t distribution with ≈ 14 degrees of freedom; |z| ≤ 4 fails by
    chance with probability ≈ 0.0013 per quantity (chaos makes the samples, hence z, differ
    from machine to machine, so the bound is a probability, not a tolerance)."""
    import xarray as xr

    from rollflow.analysis.spectra import energy_spectrum, spectral_slope

    spec = FlowSpec(simulation_size=64, output_size=32, save_interval=0.5, warmup_time=30.0,
                    num_frames=81, num_samples=8, seed=7)
    per_backend = {}
    for backend in ("jaxcfd", "exponax"):
        w = xr.DataArray(simulate(spec.replace(backend=backend), range(8)),
                         dims=("sample", "time", "x", "y"))
        w = w.assign_coords(x=np.arange(32) * 2 * np.pi / 32, y=np.arange(32) * 2 * np.pi / 32)
        spectrum = energy_spectrum(w, average_dims="time")
        per_backend[backend] = {
            "enstrophy": 0.5 * (w ** 2).mean(("time", "x", "y")).values,
            "kinetic_energy": spectrum.sum("k").values,          # Parseval: Σ_k E(k) = KE
            "slope": spectral_slope(spectrum, k_min=5, k_max=12).values}
    for name in ("kinetic_energy", "enstrophy", "slope"):
        a, b = per_backend["jaxcfd"][name], per_backend["exponax"][name]
        z = (b.mean() - a.mean()) / np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(z) <= 4, (name, a.mean(), b.mean(), z)
