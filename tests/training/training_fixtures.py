"""Tiny synthetic stores and configs for the training tests (imported by conftest.py)."""

from pathlib import Path

import numpy as np

from rollflow.diffusion import DiffusionConfig
from rollflow.nets import UNetConfig
from rollflow.specs import FlowSpec
from rollflow.store import save_dataset, trajectories_to_dataset
from rollflow.training import (DataConfig, IntervalsConfig, OptimConfig, RuntimeConfig,
                               TrainConfig)

TINY_NET = UNetConfig(base_channels=8, channel_multipliers=(1, 2), blocks_per_level=1,
                      embedding_dim=16, attention_heads=2, norm_groups=4, mid_attention=False)


def travelling_waves(num_samples: int, num_frames: int, size: int) -> np.ndarray:
    """(S, T, n, n) smooth periodic fields drifting in x, one phase per sample."""
    x = np.arange(size) * 2 * np.pi / size
    t = np.arange(num_frames) * 0.2
    fields = [np.sin(x[None, :, None] + 2.0 * t[:, None, None] + s)
              * np.cos(2 * x[None, None, :] + 0.5 * s) + 0.3 * s
              for s in range(num_samples)]
    return np.stack(fields).astype(np.float32)


def write_store(path: Path, vorticity: np.ndarray) -> Path:
    """Save (S, T, n, n) vorticity as a rollflow store at `path`."""
    samples, frames, size, _ = vorticity.shape
    spec = FlowSpec(simulation_size=max(size, 16), output_size=size, num_frames=frames,
                    num_samples=samples, warmup_time=0.0)
    save_dataset(trajectories_to_dataset(vorticity, spec), path)
    return path


def tiny_config(mode: str = "rolling", **optim) -> TrainConfig:
    """A config that trains in a fraction of a second per step on 16²."""
    return TrainConfig(
        diffusion=DiffusionConfig(mode=mode, num_context=1, window_size=2),
        net=TINY_NET,
        optim=OptimConfig(**{"lr": 2e-3, "warmup_steps": 2, "total_steps": 12,
                             "batch_size": 4, "ema_decay": 0.9, **optim}),
        intervals=IntervalsConfig(log_every=2, validate_every=4, validation_batches=1,
                                  checkpoint_every=4, keep_checkpoints=2),
        data=DataConfig(num_validation_samples=1),
        runtime=RuntimeConfig(device="cpu", num_threads=1),
        seed=3)
