"""How long a forecast will take and where it starts: said before the work, not after."""

from __future__ import annotations

import time
from typing import Any

import torch

__all__ = ["estimate_seconds", "default_init_index", "calls_per_frame"]


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
