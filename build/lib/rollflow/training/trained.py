"""Load a trained model for inference: backbone with EMA (or raw) weights + normalisation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from torch import nn

from rollflow.errors import CheckpointError
from rollflow.nets import build_network
from rollflow.training.checkpoint import latest_checkpoint, load_checkpoint
from rollflow.training.config import TrainConfig, config_hash, train_config_from_mapping
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


def _check_run_config(run_config: Path, config: TrainConfig, checkpoint: Path) -> None:
    """CheckpointError if a run directory's checkpoint was written by another config."""
    own = train_config_from_mapping(json.loads(run_config.read_text()), where=str(run_config))
    if config_hash(own) != config_hash(config):
        raise CheckpointError(f"{checkpoint}: written by a different config (hash "
                              f"{config_hash(config)[:12]}) than its run's {run_config} "
                              f"(hash {config_hash(own)[:12]})")


def _load_shipped(name: str, device: str | torch.device,
                  directory: Path | None = None) -> TrainedModel:
    from rollflow.training.shipped import load_shipped_tensors, shipped_parts

    meta, tensors = load_shipped_tensors(name, directory)
    config, stats, grid, step = shipped_parts(meta)
    network = build_network(config.net, config.num_frames)
    try:
        network.load_state_dict(tensors)
    except RuntimeError as err:
        raise CheckpointError(f"shipped model {name}: tensors do not fit the network "
                              f"({str(err).splitlines()[0]})") from None
    return TrainedModel(network=network.to(device).eval(), config=config, stats=stats,
                        step=step, grid_size=grid)


def load_trained(path: str | Path, *, use_ema: bool = True, ema_decay: float | None = None,
                 device: str | torch.device = "cpu") -> TrainedModel:
    """Model from a run directory (its newest checkpoint), a checkpoint's JSON path, or the
    name of a shipped model (`rollflow models` lists them; EMA weights only).

    `ema_decay` picks one of the EMAs a run kept (`optim.extra_ema_decays`); None is the
    run's `optim.ema_decay`."""
    if isinstance(path, str) and not Path(path).exists() and "/" not in path:
        return _load_shipped(path, device)
    path = Path(path)
    if path.suffix == ".safetensors" and path.is_file():    # the tensors of a checkpoint or
        meta = path.with_suffix(".json")                     # a shipped model: use its JSON
        if not meta.is_file():
            raise CheckpointError(f"{path}: a tensor file without its {meta.name}; give the "
                                  f"run directory or the checkpoint's .json")
        if json.loads(meta.read_text()).get("format") == "rollflow-model":
            return _load_shipped(path.stem, device, directory=path.parent)
        path = meta
    run_config = None
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise CheckpointError(f"{path} holds no checkpoint (checkpoints/step_*.json)")
        run_config = path / "config.json"
        path = found
    ckpt = load_checkpoint(path)
    if run_config is not None and run_config.is_file():
        _check_run_config(run_config, ckpt.config, path)
    network = build_network(ckpt.config.net, ckpt.config.num_frames)
    try:
        network.load_state_dict(ckpt.ema_weights(ema_decay) if use_ema else ckpt.model)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: tensors do not fit the network "
                              f"({str(err).splitlines()[0]})") from None
    return TrainedModel(network=network.to(device).eval(), config=ckpt.config,
                        stats=ckpt.stats, step=ckpt.step,
                        grid_size=int(ckpt.info.get("grid_size", 0)))
