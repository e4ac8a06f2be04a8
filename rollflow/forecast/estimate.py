"""How long a forecast will take and where it starts (said before the work), and what it
cost (`timing_attrs`, recorded after)."""

from __future__ import annotations

import time
from typing import Any

import torch
import xarray as xr

from rollflow.conventions import LEAD_TIME, SAMPLE

__all__ = ["estimate_seconds", "default_init_index", "calls_per_frame", "timing_attrs"]


def default_init_index(model: Any) -> int:
    """First time index with the model's n_ctx context frames behind it (at its stride)."""
    return (model.config.diffusion.num_context - 1) * model.config.data.frame_stride


def calls_per_frame(config: Any) -> float:
    """Network calls per emitted frame of a long forecast (per member), by mode."""
    return {"rolling": config.steps_per_shift,
            "standard": config.num_standard_steps / config.window_size,
            "deterministic": 1 / config.window_size}[config.mode]


def estimate_seconds(model: Any, settings: Any, num_samples: int) -> float:
    """Wall seconds for a forecast of `num_samples` samples: one timed network call on a
    full batch (after a warm-up call) × the calls the sampler will make."""
    rows = min(settings.batch_size, num_samples) * settings.num_members
    frames = model.config.diffusion.num_context + model.config.diffusion.window_size
    size = model.grid_size
    x = torch.zeros(rows, frames, size, size)
    lam = torch.zeros(rows, frames)
    flags = torch.zeros(rows, frames, dtype=torch.bool)
    with torch.no_grad():
        model.network(x, lam, flags)
        start = time.perf_counter()
        model.network(x, lam, flags)
        per_call = time.perf_counter() - start
    batches = -(-num_samples // settings.batch_size)
    return per_call * calls_per_frame(model.config.diffusion) * settings.num_frames * batches


def timing_attrs(ds: xr.Dataset, settings: Any, *, calls: int,
                 num_batches: int, seconds: float, num_samples_timed: int) -> dict[str, float]:
    """Network calls and wall seconds per emitted frame of the whole forecast, and wall
    seconds per simulated t.u. per trajectory, from `seconds` spent on
    `num_samples_timed` of its samples in `num_batches` batches (extrapolated to all).

    Cost is counted for what each reading needs: `forecast_seconds_per_time_unit` is one
    member (the single-member reading), `forecast_ensemble_seconds_per_time_unit` all
    `forecast_num_members` members (what an ensemble-mean reading costs)."""
    lead = ds[LEAD_TIME].values
    per_sample = seconds / num_samples_timed
    seconds_per_frame = per_sample * ds.sizes[SAMPLE] / settings.num_frames
    ensemble = per_sample / float(lead[-1])
    return {"forecast_network_calls_per_frame": calls / (settings.num_frames * num_batches),
            "forecast_seconds_per_frame": seconds_per_frame,
            "forecast_seconds_per_time_unit": ensemble / settings.num_members,
            "forecast_ensemble_seconds_per_time_unit": ensemble,
            "forecast_num_members": settings.num_members}
