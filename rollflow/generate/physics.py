"""Physics checks of a freshly simulated batch, recorded in the store with its frames.

`batch_checks` runs `rollflow.analysis.budget.spec_physics_checks` on the batch exactly as
it will be stored (float32 frames on the store's node grid), so a check recomputed later
from the store gives the same numbers up to the order of float64 sums (relative ~1e-15 per
term, far below anything `check_messages` resolves).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rollflow import store
from rollflow.conventions import TRAJECTORY_DIMS, X, Y
from rollflow.specs import FlowSpec

__all__ = ["batch_checks"]


def batch_checks(spec: FlowSpec, vorticity: np.ndarray) -> dict[str, np.ndarray] | None:
    """Per-sample checks ((B,) float64 arrays keyed as `store.checks.CHECKS`) of a
    (B, num_frames, n, n) batch, 1/t.u.; None when they cannot be computed (fewer than two
    frames, or no energy injection to scale the budget by) — the store then keeps NaN and
    `rollflow info` computes them from the frames."""
    from rollflow.analysis.budget import spec_physics_checks

    values = np.asarray(vorticity, np.float32)
    if values.ndim != 4 or values.shape[1] < 2 or not np.isfinite(values).all():
        return None
    coords = store.trajectory_coords(spec)
    frames = xr.DataArray(values, dims=TRAJECTORY_DIMS, coords={X: coords[X], Y: coords[Y]})
    checks = spec_physics_checks(frames, spec)
    out = {name: np.asarray(checks[name].values, np.float64) for name in store.CHECKS}
    return out if all(np.isfinite(v).all() for v in out.values()) else None
