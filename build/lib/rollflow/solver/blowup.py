"""Blow-up detection between integration chunks.

A sample has blown up when any of its saved frames holds a non-finite value, or when its
maximum speed at the end of a chunk exceeds `RUNAWAY_FACTOR` × max(max_velocity,
initial_max_velocity). The time step assumes |u| ≤ max_velocity (Courant number C, 0.5 by
default); at 10× that speed the realised Courant number is 10 C (5 by default), beyond the
order-1 advective stability limit of the explicit Runge–Kutta part, so the run is diverging
even if it is still finite. Kolmogorov flow at Re = 1000 after warm-up has
|u|max ≈ 2.5–4 (measured at 64², E ≈ 1); the random initial field has |u|max =
initial_max_velocity (7 by default). Both are far below the limit (70 by default).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rollflow.errors import SolverBlowUpError
from rollflow.specs import FlowSpec

__all__ = ["RUNAWAY_FACTOR", "speed_limit", "check_input", "check_chunk"]

RUNAWAY_FACTOR = 10.0


def speed_limit(spec: FlowSpec) -> float:
    """Largest believable speed, L/t.u.: RUNAWAY_FACTOR × max(max_velocity,
    initial_max_velocity)."""
    return RUNAWAY_FACTOR * max(spec.max_velocity, spec.initial_max_velocity)


def _raise(labels: Sequence[int], bad: np.ndarray, times: np.ndarray,
           what: Sequence[str]) -> None:
    """Raise for the earliest bad sample; `what[b]` describes the failure of row b."""
    first = int(np.flatnonzero(bad)[np.argmin(times[bad])])
    others = int(bad.sum()) - 1
    more = f" (and {others} more sample{'s' if others > 1 else ''})" if others else ""
    raise SolverBlowUpError(f"solver blew up: sample {labels[first]} {what[first]} at "
                            f"t = {times[first]:.6g} t.u.{more}")


def check_input(vorticity: np.ndarray, labels: Sequence[int], time: float) -> None:
    """Raise SolverBlowUpError if an input field (B, N, N) holds a non-finite value."""
    bad = ~np.isfinite(vorticity).all(axis=(-2, -1))
    if bad.any():
        _raise(labels, bad, np.full(bad.shape, time), ["has non-finite vorticity"] * len(bad))


def check_chunk(frames: np.ndarray, max_speed: np.ndarray, *, labels: Sequence[int],
                start_time: float, save_interval: float, limit: float) -> None:
    """Check one chunk of frames; raise SolverBlowUpError naming the earliest failure.

    Args:
        frames: (B, C, n, n) frames saved at start_time + (1..C) · save_interval.
        max_speed: (B,) maximum speed at the end of the chunk, L/t.u.
        labels: sample index of each batch row, for the message.
        start_time: time of the state the chunk started from, t.u.
        save_interval: Δt between frames, t.u.
        limit: speed above which a sample counts as runaway, L/t.u.
    """
    finite = np.isfinite(frames).all(axis=(-2, -1))  # (B, C)
    bad = ~finite.all(axis=1)
    if bad.any():
        first_bad = np.argmin(finite, axis=1)
        times = start_time + (first_bad + 1) * save_interval
        _raise(labels, bad, times, ["has non-finite vorticity"] * len(bad))
    runaway = ~(max_speed <= limit)
    if runaway.any():
        end = start_time + frames.shape[1] * save_interval
        what = [f"ran away (max speed {s:.3g} > {limit:.3g} L/t.u.)" for s in max_speed]
        _raise(labels, runaway, np.full(runaway.shape, end), what)
