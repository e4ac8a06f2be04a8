"""Long-rollout stability and climatology (METHOD.md §5, "Stability").

A rollout is a forecast (sample, member, time, x, y) run far beyond the predictability
horizon; it cannot be scored frame by frame, only by whether it stays a plausible flow:

- finite: the share of rollouts (sample × member) whose every frame is finite;
- in range: the share of rollouts whose kinetic energy stays inside the truth's observed
  range [min, max] at every frame, and the share of all frames inside it;
- climatology: the log-spectral error of the rollout's time-mean energy spectrum against
  the truth's (shells 1 ≤ k ≤ n/2 − 1), computed over the finite rollouts only.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rollflow.analysis._checks import require_dims
from rollflow.analysis.fields import kinetic_energy
from rollflow.analysis.spectra import energy_spectrum, log_spectral_error
from rollflow.conventions import MEMBER, SAMPLE, TIME, X, Y
from rollflow.errors import DataError

__all__ = ["rollout_stability"]


def rollout_stability(rollout: xr.DataArray, truth: xr.DataArray) -> xr.Dataset:
    """Stability scores of long rollouts against a truth climatology.

    Args:
        rollout: vorticity (sample, member, time, x, y), 1/t.u.
        truth: vorticity with dims (…, x, y) on the same grid, any number of frames: the
            reference range of kinetic energy and the reference time-mean spectrum.

    Returns:
        Dataset with share_finite, share_in_range, share_frames_in_range (scalars in
        [0, 1]), kinetic_energy (sample, member, time) of the rollout, truth_ke_min,
        truth_ke_max, log_spectral_error (NaN if no rollout is finite) and the two
        time-mean spectra.
    """
    require_dims(rollout, (SAMPLE, MEMBER, TIME, X, Y), "rollout")
    require_dims(truth, (X, Y), "truth")
    if rollout.sizes[X] != truth.sizes[X] or rollout.sizes[Y] != truth.sizes[Y]:
        raise DataError(f"rollout grid {rollout.sizes[X]}×{rollout.sizes[Y]} differs from the "
                        f"truth grid {truth.sizes[X]}×{truth.sizes[Y]}")
    values = rollout.values
    finite = np.isfinite(values).all(axis=(2, 3, 4))                  # (sample, member)
    safe = rollout.where(xr.DataArray(finite, dims=(SAMPLE, MEMBER)), 0.0)
    energy = kinetic_energy(safe).where(xr.DataArray(finite, dims=(SAMPLE, MEMBER)))
    truth_energy = kinetic_energy(truth)
    low, high = float(truth_energy.min()), float(truth_energy.max())
    inside = (energy >= low) & (energy <= high)                        # NaN → False
    out = xr.Dataset({
        "share_finite": float(finite.mean()),
        "share_in_range": float(inside.all(TIME).mean()),
        "share_frames_in_range": float(inside.mean()),
        "kinetic_energy": energy, "truth_ke_min": low, "truth_ke_max": high,
    })
    truth_dims = tuple(d for d in truth.dims if d not in (X, Y))
    spec_t = energy_spectrum(truth, average_dims=truth_dims)
    out["energy_spectrum_truth"] = spec_t
    if finite.any():
        stacked = rollout.stack(run=(SAMPLE, MEMBER)).isel(run=np.flatnonzero(finite.ravel()))
        spec_r = energy_spectrum(stacked.drop_vars(["run", SAMPLE, MEMBER]),
                                 average_dims=("run", TIME))
        out["energy_spectrum_rollout"] = spec_r
        out["log_spectral_error"] = log_spectral_error(spec_r, spec_t,
                                                       k_max=rollout.sizes[X] // 2 - 1)
    else:
        out["log_spectral_error"] = float("nan")
    return out
