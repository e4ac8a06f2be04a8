"""Physics checks of trajectories: does each sample obey the flow its store claims?

For the body force F = A sin(k_f y) x̂, linear drag α and viscosity ν (METHOD.md §1), the
kinetic energy E = ½⟨|u|²⟩ obeys

    dE/dt = P − 2νZ − 2αE,   P = ⟨u·F⟩ = A⟨u sin(k_f y)⟩,   Z = ½⟨ω²⟩.

Per sample, over its frames t_n = nΔt (n = 0 … N−1):

- **budget residual** r = Σ_n [E_{n+1} − E_n − ½Δt (g_n + g_{n+1})] / (Δt (N−1) P̄), with
  g = P − 2νZ − 2αE and P̄ the sample's mean injection: the integrated budget's mismatch as
  a share of the energy put in (dimensionless). Expected size: the trapezoid rule's error
  per step is ~ Δt³/12 · |g''|, which averages out along a trajectory; a field truncated
  from a finer DNS misses the dissipation 2ν(Z_DNS − Z) of the dropped modes (r < 0).
  On KF32 (DNS 128² → 32², Δt = 0.2 t.u.) `rollflow info data/kf32/validation_long.zarr`
  gives r = −0.6 % … −0.5 %; the 32² store of tests/cli/test_info.py made with ν = 2e-3
  but labelled 1e-3 fails with r ≈ −9 %; negated vorticity (P → −P) gives r = −2 exactly
  on the laminar state, which itself gives r = 0 up to round-off (tests/analysis).
- **eddy momentum flux** 2⟨u′v′ cos(k_f y)⟩ (u′, v′: minus their x-average), time mean,
  L²/t.u.²: negative when eddies draw energy from the mean shear; a field mirrored in x
  flips its sign exactly (negating ω leaves it unchanged — the budget sees that).
- time means of E (L²/t.u.²), Z (1/t.u.²) and P (L²/t.u.³).

`physics_checks` returns them per sample (`spec_physics_checks` with a store's FlowSpec);
`check_messages` gives one line per failure.
Pure numpy/xarray; velocities from `fields.velocity_from_vorticity`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rollflow.analysis._checks import require_dims
from rollflow.analysis.fields import velocity_from_vorticity
from rollflow.conventions import SAMPLE, TIME, X, Y

__all__ = ["budget_terms", "eddy_momentum_flux", "physics_checks", "spec_physics_checks",
           "check_messages", "BUDGET_TOLERANCE"]

BUDGET_TOLERANCE = 0.03
"""|r| above this fails: 5× the truncation offset on KF32 (−0.6 %), a third of the −9 % of
a store whose viscosity is twice the labelled one."""


def _y_profile(vorticity: xr.DataArray, wavenumber: int, fn) -> xr.DataArray:
    n = vorticity.sizes[Y]
    y = 2 * np.pi * np.arange(n) / n
    return xr.DataArray(fn(wavenumber * y), dims=Y)


def _eddy_flux(velocity: xr.Dataset, forcing_wavenumber: int) -> xr.DataArray:
    eddies = velocity - velocity.mean(X)
    weight = _y_profile(velocity.u, forcing_wavenumber, np.cos)
    return (2 * eddies.u * eddies.v * weight).mean((X, Y)).rename("eddy_momentum_flux")


def budget_terms(vorticity: xr.DataArray, *, viscosity: float, drag: float,
                 forcing_wavenumber: int, forcing_amplitude: float = 1.0) -> xr.Dataset:
    """E, Z, P, g = P − 2νZ − 2αE and the eddy momentum flux of every field (dims x, y
    reduced; float64; the velocity is computed once)."""
    require_dims(vorticity, (X, Y), "vorticity")
    w = vorticity.astype(np.float64)
    velocity = velocity_from_vorticity(w)
    energy = 0.5 * (velocity.u ** 2 + velocity.v ** 2).mean((X, Y))
    enstrophy = 0.5 * (w ** 2).mean((X, Y))
    forcing = forcing_amplitude * _y_profile(w, forcing_wavenumber, np.sin)
    injection = (velocity.u * forcing).mean((X, Y))
    return xr.Dataset({"kinetic_energy": energy, "enstrophy": enstrophy,
                       "injection": injection,
                       "tendency": injection - 2 * viscosity * enstrophy - 2 * drag * energy,
                       "eddy_momentum_flux": _eddy_flux(velocity, forcing_wavenumber)})


def eddy_momentum_flux(vorticity: xr.DataArray, forcing_wavenumber: int) -> xr.DataArray:
    """2⟨u′v′ cos(k_f y)⟩ of every field, L²/t.u.² (u′ = u minus its x-average)."""
    return _eddy_flux(velocity_from_vorticity(vorticity.astype(np.float64)),
                      forcing_wavenumber)


def physics_checks(vorticity: xr.DataArray, *, viscosity: float, drag: float,
                   forcing_wavenumber: int, save_interval: float,
                   forcing_amplitude: float = 1.0) -> xr.Dataset:
    """Per sample of (sample, time, x, y) vorticity (1/t.u., frames `save_interval` t.u.
    apart, ≥ 2 frames): `budget_residual` (dimensionless), `eddy_momentum_flux`, and the
    time means `kinetic_energy`, `enstrophy`, `injection` — computed (dask input is read
    once). See the module docstring."""
    require_dims(vorticity, (SAMPLE, TIME, X, Y), "vorticity")
    terms = budget_terms(vorticity, viscosity=viscosity, drag=drag,
                         forcing_wavenumber=forcing_wavenumber,
                         forcing_amplitude=forcing_amplitude).compute()
    g = terms.tendency.transpose(SAMPLE, TIME).values
    energy = terms.kinetic_energy.transpose(SAMPLE, TIME).values
    mismatch = np.diff(energy, axis=1) - 0.5 * save_interval * (g[:, 1:] + g[:, :-1])
    injection = terms.injection.mean(TIME)
    steps = energy.shape[1] - 1
    with np.errstate(divide="ignore", invalid="ignore"):    # no injection: check_messages
        residual = mismatch.sum(axis=1) / (save_interval * steps * injection.values)
    return xr.Dataset({"budget_residual": ((SAMPLE,), residual),
                       "eddy_momentum_flux": terms.eddy_momentum_flux.mean(TIME),
                       "kinetic_energy": terms.kinetic_energy.mean(TIME),
                       "enstrophy": terms.enstrophy.mean(TIME), "injection": injection},
                      attrs={"budget_tolerance": BUDGET_TOLERANCE})


def spec_physics_checks(vorticity: xr.DataArray, spec) -> xr.Dataset:
    """`physics_checks` with the physics and frame spacing of `spec` (a FlowSpec)."""
    return physics_checks(vorticity, viscosity=spec.viscosity, drag=spec.drag,
                          forcing_wavenumber=spec.forcing_wavenumber,
                          save_interval=spec.save_interval,
                          forcing_amplitude=spec.forcing_amplitude)


def _outliers(values: np.ndarray, spread: float = 5.0) -> np.ndarray:
    """Samples farther than `spread` × 1.4826·MAD from the median (≥ 5 samples, MAD > 0)."""
    if values.size < 5:
        return np.zeros(values.size, bool)
    median = np.median(values)
    mad = 1.4826 * np.median(np.abs(values - median))
    return np.abs(values - median) > spread * mad if mad > 0 else np.zeros(values.size, bool)


def check_messages(checks: xr.Dataset, tolerance: float = BUDGET_TOLERANCE) -> list[str]:
    """One line per failing sample of `physics_checks`: energy budget off by more than
    `tolerance` of the injection, injection ≤ 0, eddy momentum flux > 0 beyond round-off
    (wrong orientation; a laminar flow has none),
    or mean kinetic energy / enstrophy outside the envelope of the store's own samples."""
    lines = []
    samples = checks[SAMPLE].values if SAMPLE in checks.coords else range(checks.sizes[SAMPLE])
    far = {name: _outliers(checks[name].values) for name in ("kinetic_energy", "enstrophy")}
    for i, sample in enumerate(samples):
        c = checks.isel({SAMPLE: i})
        why = []
        if not float(c.injection) > 0:
            why.append(f"energy injection ⟨u·F⟩ = {float(c.injection):.3g} ≤ 0 (negated "
                       "vorticity or flipped forcing?)")
        elif not abs(float(c.budget_residual)) <= tolerance:
            why.append(f"energy budget off by {float(c.budget_residual):+.1%} of the injection "
                       f"(tolerance {tolerance:.0%}: other ν, α or forcing than labelled?)")
        # a laminar flow has no eddies: its flux is round-off of float32 fields, ~(6e-8)²·E
        if not float(c.eddy_momentum_flux) <= 1e-6 * float(c.kinetic_energy):
            why.append(f"eddy momentum flux {float(c.eddy_momentum_flux):+.3g} > 0 (mirrored "
                       "field or flipped advection?)")
        why += [f"{name.replace('_', ' ')} {float(c[name]):.3g} far outside the other samples'"
                for name in far if far[name][i]]
        if why:
            lines.append(f"sample {sample}: " + "; ".join(why))
    return lines
