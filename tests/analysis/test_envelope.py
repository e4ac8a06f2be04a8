"""Reference envelopes: the integral time of a process with a known autocorrelation, the
spread of time means it predicts, and the flags it raises."""

import math

import numpy as np
import xarray as xr

from rollflow.analysis.envelope import (QUANTITIES, SIGMAS, envelope_messages, integral_time,
                                        reference_envelope, time_mean_spread)
from rollflow.specs import FlowSpec


def _ar1(phi: float, samples: int, frames: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.empty((samples, frames))
    x[:, 0] = rng.standard_normal(samples)
    noise = rng.standard_normal((samples, frames)) * math.sqrt(1 - phi ** 2)
    for n in range(1, frames):
        x[:, n] = phi * x[:, n - 1] + noise[:, n]
    return x


def test_integral_time_of_an_ar1_process():
    """ρ(k) = φ^k, so τ = Δt(½ + φ/(1 − φ)) = 9.5 Δt for φ = 0.9. The estimate sums noisy
    ρ over ≈ 60 lags; by Bartlett's formula each has a standard error ≈ √((1+φ²)/(1−φ²)/N)
    ≈ 0.011 for N = 64 × 2000 frames, and the ~60 errors are strongly correlated, so the
    sum errs by ≲ 60 × 0.011 = 0.7 at worst: within 10 % of 9.5."""
    tau = integral_time(_ar1(0.9, 64, 2000), dt=0.2)
    assert abs(tau - 0.2 * 9.5) <= 0.1 * 0.2 * 9.5


def test_the_spread_of_time_means_is_predicted():
    """Means over D = 400 frames of φ = 0.9 (s = 1, τ = 9.5 frames): predicted σ_D =
    √(2τ/D) = 0.218 (the exact AR(1) value is √((1+φ)/(1−φ)/D) = 0.218); measured over
    256 windows, whose standard deviation has a relative standard error 1/√(2·255) ≈ 4.4 %:
    within 4 standard errors (18 %)."""
    x = _ar1(0.9, 256, 400, seed=1)
    stats = {"std_over_time": 1.0, "integral_time": 9.5}
    predicted = time_mean_spread(stats, 400, total=1e12)
    assert abs(x.mean(axis=1).std(ddof=1) / predicted - 1) <= 0.18


def _envelope() -> dict:
    entry = {"mean": 1.0, "std_over_time": 0.2, "integral_time": 1.0}
    return {"name": "TEST", "total_duration": 1e6, **{q: dict(entry) for q in QUANTITIES}}


def test_samples_outside_the_envelope_are_flagged_inside_are_not():
    envelope = _envelope()
    width = time_mean_spread(envelope["kinetic_energy"], 50.0, 1e6)   # 0.2 · √(2/50), and
    # σ_μ = 0.2 · √(2/1e6) in quadrature adds a relative 2.5e-5
    assert math.isclose(width, 0.04, rel_tol=1e-4)
    values = {q: ("sample", np.ones(3)) for q in QUANTITIES}
    values["kinetic_energy"] = ("sample", 1 + width * np.array([0.0, SIGMAS - 1, SIGMAS + 1]))
    lines = envelope_messages(xr.Dataset(values, coords={"sample": [4, 5, 6]}), envelope, 50.0)
    assert len(lines) == 1 and lines[0].startswith("sample 6: kinetic energy 1.24 outside")


def test_only_standard_flows_have_a_shipped_envelope():
    kf32 = FlowSpec(simulation_size=128, output_size=32)
    assert reference_envelope(kf32.replace(output_size=16)) is None
    assert reference_envelope(kf32.replace(viscosity=2e-3)) is None
