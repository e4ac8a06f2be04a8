"""Long-run statistics of a rollout against the flow's climate (issue 16, METHOD.md §5).

Far beyond the predictability horizon a forecast can only be judged as a flow: does it
keep the attractor's statistics? Against `climate` (truth frames of the same flow, e.g. a
training store) `climate_statistics` reads, for each rollout (sample × member):

- `stable`: every frame finite and its kinetic energy inside the climate's [min, max];
- `spectral_error` (time): Σ_k |E(k, t) − Ē_ref(k)| / Ē_ref(k) over the shells
  1 ≤ k ≤ n/2 − 1, the normalised spectral error of each frame (the Thermalizer measure);
- `pdf_distance`: the Wasserstein-1 distance between the one-point PDF of ω over the
  rollout's frames and the climate's (1/t.u.; `wasserstein1`);
- `kinetic_energy`, `enstrophy` (time) and the share of frames inside the climate's
  central 98 % band (1st–99th percentile) of each;
- `integral_time`: the integral time scale of the rollout's kinetic energy (t.u.;
  `envelope.integral_time`), beside the climate's own (attrs, when the climate has time).

The climate is read once (`summarise_climate`: its KE range and bands, mean spectrum, ω
quantiles, floors and integral time) and every rollout against that summary, so that
several models cost one pass over the climate.

What the truth itself scores (`climate_reference`, in the attrs as `climate_*`): the
spectral error is per frame, so even truth frames score > 0 (E(k, t) scatters about its
mean); the median over the climate's own frames is the floor a rollout is read against.
Likewise the W₁ of one climate trajectory's ω PDF against the pooled climate's.

Pure numpy/xarray.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from rollflow.analysis._checks import require_dims
from rollflow.analysis.envelope import integral_time
from rollflow.analysis.fields import kinetic_energy
from rollflow.analysis.spectra import energy_spectrum
from rollflow.conventions import MEMBER, SAMPLE, TIME, X, Y

__all__ = ["wasserstein1", "normalised_spectral_error", "climate_statistics",
           "climate_reference", "ClimateSummary", "summarise_climate"]

QUANTILES = 1000


def _quantiles(values: np.ndarray, quantiles: int = QUANTILES) -> np.ndarray:
    q = (np.arange(quantiles) + 0.5) / quantiles
    return np.quantile(np.asarray(values, np.float64).ravel(), q)


def wasserstein1(a: np.ndarray, b: np.ndarray, quantiles: int = QUANTILES) -> float:
    """W₁ between the empirical distributions of samples `a` and `b` (any shapes):
    ∫₀¹ |F_a⁻¹(q) − F_b⁻¹(q)| dq, by the midpoint rule on `quantiles` equal steps of q
    (exact for a shift: W₁(a, a + c) = |c|)."""
    return float(np.mean(np.abs(_quantiles(a, quantiles) - _quantiles(b, quantiles))))


def normalised_spectral_error(spectrum: xr.DataArray, reference: xr.DataArray,
                              k_max: int) -> xr.DataArray:
    """Σ_k |E(k) − E_ref(k)| / E_ref(k) over 1 ≤ k ≤ `k_max` (dimensionless); `k` reduced."""
    band = (spectrum["k"] >= 1) & (spectrum["k"] <= k_max)
    e, ref = spectrum.where(band, drop=True), reference.where(band, drop=True)
    return (np.abs(e - ref) / ref).sum("k")


def _band(values: np.ndarray) -> tuple[float, float]:
    return float(np.quantile(values, 0.01)), float(np.quantile(values, 0.99))


def climate_reference(climate: xr.DataArray, spectrum_ref: xr.DataArray | None = None, *,
                      frames: int | None = None) -> dict[str, float]:
    """What truth frames score on the per-frame measures.

    - `climate_spectral_error_median`: the median over the climate's frames of their
      normalised spectral error against the climate-mean spectrum (`spectrum_ref`, if
      already computed);
    - `climate_pdf_distance_median` (with a `sample` dim of ≥ 2 trajectories): the median,
      over disjoint groups of climate trajectories holding about `frames` frames in all
      (default: one trajectory), of the W₁ (1/t.u.) between the group's ω PDF and that of
      the other trajectories — the floor for a rollout of `frames` frames, which has about
      as many independent frames as the group; `climate_pdf_floor_trajectories` says how
      many trajectories made a group.
    """
    require_dims(climate, (X, Y), "climate")
    dims = [d for d in climate.dims if d not in (X, Y)]
    if spectrum_ref is None:
        spectrum_ref = energy_spectrum(climate, average_dims=tuple(dims))
    k_max = climate.sizes[X] // 2 - 1
    parts = [climate.isel({SAMPLE: i}) for i in range(climate.sizes[SAMPLE])] \
        if SAMPLE in dims else [climate]
    errors = [normalised_spectral_error(energy_spectrum(p), spectrum_ref, k_max).values.ravel()
              for p in parts]
    out = {"climate_spectral_error_median": float(np.median(np.concatenate(errors)))}
    count = climate.sizes.get(SAMPLE, 1)
    if SAMPLE in dims and count >= 2:
        per = climate.size // (count * climate.sizes[X] * climate.sizes[Y])
        group = int(min(count // 2, max(1, round((frames or per) / per))))
        values = climate.transpose(SAMPLE, ...).values
        distances = [wasserstein1(values[start:start + group],
                                  np.concatenate([values[:start], values[start + group:]]))
                     for start in range(0, count - group + 1, group)]
        out |= {"climate_pdf_distance_median": float(np.median(distances)),
                "climate_pdf_floor_trajectories": group}
    return out


@dataclasses.dataclass(frozen=True)
class ClimateSummary:
    """What rollouts are read against, from one pass over the climate frames: the KE range
    (1/t.u.² units of ω²·length²), the 1–99 % bands of KE and enstrophy, the climate-mean
    energy spectrum (dim k), the ω quantiles of `QUANTILES` midpoint steps, the truth's
    floors for rollouts of `frames` frames (`climate_reference`) and the climate's KE
    integral time (t.u.; None without sample and time dims)."""

    kinetic_energy_range: tuple[float, float]
    bands: dict
    spectrum: xr.DataArray
    quantiles: np.ndarray
    floors: dict
    frames: int | None
    integral_time: float | None


def summarise_climate(climate: xr.DataArray, *, save_interval: float | None = None,
                      frames: int | None = None) -> ClimateSummary:
    """The `ClimateSummary` of (…, x, y) climate frames, `save_interval` t.u. apart (needed
    for the integral time), floors for rollouts of `frames` frames."""
    require_dims(climate, (X, Y), "climate")
    climate = climate.load()
    ke = kinetic_energy(climate)
    z = (0.5 * (climate.astype(np.float64) ** 2).mean((X, Y))).values
    spectrum = energy_spectrum(climate, average_dims=tuple(d for d in climate.dims
                                                           if d not in (X, Y)))
    tau = None
    if TIME in climate.dims and SAMPLE in climate.dims and save_interval is not None:
        tau = integral_time(ke.transpose(SAMPLE, TIME).values, save_interval)
    return ClimateSummary(
        kinetic_energy_range=(float(ke.min()), float(ke.max())),
        bands={"kinetic_energy": _band(ke.values), "enstrophy": _band(z)},
        spectrum=spectrum, quantiles=_quantiles(climate.values),
        floors=climate_reference(climate, spectrum, frames=frames), frames=frames,
        integral_time=tau)


def climate_statistics(rollout: xr.DataArray, climate: xr.DataArray | ClimateSummary,
                       save_interval: float) -> xr.Dataset:
    """Long-run statistics (module docstring) of a (sample, member, time, x, y) rollout,
    frames `save_interval` t.u. apart, against (…, x, y) climate frames (read at the
    rollout's interval) or their `ClimateSummary`; dims (sample, member) and (sample,
    member, time) as named."""
    require_dims(rollout, (SAMPLE, MEMBER, TIME, X, Y), "rollout")
    if not isinstance(climate, ClimateSummary):
        climate = summarise_climate(climate, save_interval=save_interval,
                                    frames=rollout.sizes[TIME])
    finite = np.isfinite(rollout).all((TIME, X, Y))
    safe = rollout.where(finite, 0.0)
    ke = kinetic_energy(safe)
    z = 0.5 * (safe.astype(np.float64) ** 2).mean((X, Y))
    low, high = climate.kinetic_energy_range
    inside = (ke >= low) & (ke <= high)
    out = xr.Dataset({
        "stable": finite & inside.all(TIME),
        "kinetic_energy": ke, "enstrophy": z,
        "spectral_error": normalised_spectral_error(energy_spectrum(safe), climate.spectrum,
                                                    rollout.sizes[X] // 2 - 1)})
    for name, values in (("kinetic_energy", ke), ("enstrophy", z)):
        low, high = climate.bands[name]
        out[f"{name}_share_in_band"] = ((values >= low) & (values <= high)).mean(TIME)
        out.attrs[f"climate_{name}_band"] = f"{low:.6g} … {high:.6g}"
    samples = rollout.transpose(SAMPLE, MEMBER, TIME, X, Y).values
    out["pdf_distance"] = ((SAMPLE, MEMBER), np.array(
        [[float(np.mean(np.abs(_quantiles(m) - climate.quantiles))) for m in s]
         for s in samples]))
    out["integral_time"] = ((SAMPLE, MEMBER), np.array(
        [[integral_time(ke.sel({SAMPLE: s, MEMBER: m}).values[None], save_interval)
          for m in rollout[MEMBER].values] for s in rollout[SAMPLE].values]))
    out.attrs.update(climate.floors)
    if climate.integral_time is not None:
        out.attrs["climate_kinetic_energy_integral_time"] = climate.integral_time
    return out.assign_attrs(save_interval=save_interval)
