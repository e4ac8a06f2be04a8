"""Load a trained model for inference: backbone with EMA (or raw) weights + normalisation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import nn

from rollflow.errors import CheckpointError
from rollflow.nets import build_network
from rollflow.training.checkpoint import latest_checkpoint, load_checkpoint
from rollflow.training.config import TrainConfig
from rollflow.training.data import NormStats

__all__ = ["TrainedModel", "load_trained"]


@dataclasses.dataclass(frozen=True)
class TrainedModel:
    """A network in eval mode on normalised vorticity, with what is needed to use it.

    `normalise`/`denormalise` map vorticity (1/t.u.) ↔ the network's units, any shape.
    """

    network: nn.Module
    config: TrainConfig
    stats: NormStats
    step: int
    grid_size: int

    def normalise(self, vorticity: torch.Tensor) -> torch.Tensor:
        return (vorticity - self.stats.mean) / self.stats.std

    def denormalise(self, values: torch.Tensor) -> torch.Tensor:
        return values * self.stats.std + self.stats.mean


def load_trained(path: str | Path, *, use_ema: bool = True,
                 device: str | torch.device = "cpu") -> TrainedModel:
    """Model from a run directory (its newest checkpoint) or a checkpoint's JSON path."""
    path = Path(path)
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise CheckpointError(f"{path} holds no checkpoint (checkpoints/step_*.json)")
        path = found
    ckpt = load_checkpoint(path)
    network = build_network(ckpt.config.net, ckpt.config.num_frames)
    try:
        network.load_state_dict(ckpt.ema if use_ema else ckpt.model)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: tensors do not fit the network ({err})") from None
    return TrainedModel(network=network.to(device).eval(), config=ckpt.config,
                        stats=ckpt.stats, step=ckpt.step,
                        grid_size=int(ckpt.info.get("grid_size", 0)))
