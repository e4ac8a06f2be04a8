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
