"""Reference envelopes: where a standard flow's time means lie, shipped with the package.

For a stationary chaotic flow the time mean m_D of a quantity q over a window of D t.u.
scatters around the climatological mean μ with standard deviation

    σ_D ≈ s · √(min(1, 2τ/D)),

s the standard deviation of q over time and τ its integral time scale (the integral of the
autocorrelation up to its first zero crossing; 2τ is the time between independent values).
An envelope keeps μ, s and τ of the kinetic energy, enstrophy, injection and eddy momentum
flux of a long reference store (`benchmarks/physics_envelope.py` writes
`rollflow/analysis/envelopes.json`), and the total duration it was estimated over, so the
uncertainty of μ itself, σ_μ = s √(2τ / D_total), adds in quadrature. A sample whose time
mean lies more than `SIGMAS` × √(σ_D² + σ_μ²) from μ is flagged.

Pure numpy/xarray; the per-frame terms come from `budget.budget_terms`.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

import numpy as np
import xarray as xr

from rollflow.analysis.budget import budget_terms
from rollflow.conventions import SAMPLE, TIME

__all__ = ["QUANTITIES", "SIGMAS", "integral_time", "envelope_of", "reference_envelope",
           "envelope_messages", "envelope_key"]

QUANTITIES = ("kinetic_energy", "enstrophy", "injection", "eddy_momentum_flux")
SIGMAS = 5.0
"""Half-width of the envelope in standard deviations of a time mean (Gaussian two-sided
false-alarm rate 6e-7 per sample and quantity)."""

KEY_FIELDS = ("viscosity", "drag", "forcing_wavenumber", "forcing_amplitude",
              "domain_size", "simulation_size", "output_size")


def integral_time(series: np.ndarray, dt: float) -> float:
    """τ (t.u.) of (samples, frames) series Δt = `dt` apart: Δt·(½ + Σ_{lag ≥ 1} ρ(lag))
    with the sample-averaged autocorrelation ρ summed up to its first value ≤ 0."""
    x = np.asarray(series, np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    variance = (x ** 2).mean()
    if not variance > 0:
        return 0.0
    total = 0.5
    for lag in range(1, x.shape[1] // 2):
        rho = (x[:, lag:] * x[:, :-lag]).mean() / variance
        if rho <= 0:
            break
        total += rho
    return dt * total


def envelope_key(spec: Any) -> dict[str, float]:
    """The FlowSpec fields an envelope is valid for (physics and grids)."""
    return {name: getattr(spec, name) for name in KEY_FIELDS}


def envelope_of(vorticity: xr.DataArray, spec: Any) -> dict[str, Any]:
    """The envelope of a (sample, time, x, y) reference store: per quantity μ, s, τ (t.u.)
    and, as a check of σ_D, the standard deviation of the samples' time means."""
    terms = budget_terms(vorticity, viscosity=spec.viscosity, drag=spec.drag,
                         forcing_wavenumber=spec.forcing_wavenumber,
                         forcing_amplitude=spec.forcing_amplitude).compute()
    duration = spec.save_interval * (vorticity.sizes[TIME] - 1)
    out: dict[str, Any] = {"key": envelope_key(spec), "samples": vorticity.sizes[SAMPLE],
                           "duration_per_sample": duration,
                           "total_duration": duration * vorticity.sizes[SAMPLE]}
    for name in QUANTITIES:
        series = terms[name].transpose(SAMPLE, TIME).values
        out[name] = {"mean": float(series.mean()),
                     "std_over_time": float(np.sqrt(series.var(axis=1).mean())),
                     "integral_time": integral_time(series, spec.save_interval),
                     "std_of_sample_means": float(series.mean(axis=1).std(ddof=1))}
    return out


def reference_envelope(spec: Any) -> dict[str, Any] | None:
    """The shipped envelope whose key equals `spec`'s physics and grids, or None."""
    text = resources.files("rollflow.analysis").joinpath("envelopes.json").read_text()
    for name, entry in json.loads(text).get("envelopes", {}).items():
        if all(math.isclose(float(entry["key"][k]), float(v), rel_tol=1e-9)
               for k, v in envelope_key(spec).items()):
            return {"name": name, **entry}
    return None


def time_mean_spread(stats: dict[str, float], duration: float, total: float) -> float:
    """√(σ_D² + σ_μ²) of one quantity's `stats` for a time mean over `duration` t.u."""
    s, tau = stats["std_over_time"], stats["integral_time"]
    sigma_d = s * math.sqrt(min(1.0, 2 * tau / duration)) if duration > 0 else s
    return math.hypot(sigma_d, s * math.sqrt(min(1.0, 2 * tau / total)))


def envelope_messages(checks: xr.Dataset, envelope: dict[str, Any],
                      duration: float) -> list[str]:
    """One line per sample of `physics_checks` (time means over `duration` t.u.) whose KE,
    enstrophy, injection or eddy flux lies outside the envelope."""
    lines = []
    for i in range(checks.sizes[SAMPLE]):
        why = []
        for name in QUANTITIES:
            stats = envelope[name]
            width = SIGMAS * time_mean_spread(stats, duration, envelope["total_duration"])
            value = float(checks[name].isel({SAMPLE: i}))
            if not abs(value - stats["mean"]) <= width:
                why.append(f"{name.replace('_', ' ')} {value:.3g} outside {envelope['name']}'s "
                           f"{stats['mean']:.3g} ± {width:.2g}")
        if why:
            sample = checks[SAMPLE].values[i] if SAMPLE in checks.coords else i
            lines.append(f"sample {sample}: " + "; ".join(why))
    return lines
