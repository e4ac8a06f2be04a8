"""Checkpoints as safetensors (all tensors) + JSON (everything else); never pickle.

A checkpoint at step k is two files in `<run>/checkpoints/`:

    step_<k:08d>.safetensors   model/<name>, ema/<name>, ema@<decay>/<name> (the extra
                               EMAs), optim/<param index>/<state key>
    step_<k:08d>.json          format tag and version, step, resolved config and its hash,
                               normalisation stats, data split and loader position,
                               optimiser param groups, sha256 of the safetensors file

Both are written to a temporary name and renamed; the JSON goes last, so a checkpoint
exists only once it is complete. Loading checks the format tag, the config hash and the
sha256; any mismatch is a CheckpointError naming the file. Random state needs no saving:
every draw of step k comes from generators seeded with (seed, k).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rollflow.configio import to_mapping
from rollflow.errors import CheckpointError, ConfigError
from rollflow.training.config import TrainConfig, config_hash, train_config_from_mapping
from rollflow.training.data import NormStats

__all__ = ["FORMAT", "VERSION", "Checkpoint", "save_checkpoint", "load_checkpoint",
           "latest_checkpoint", "latest_progress", "prune_checkpoints", "checkpoint_dir",
           "write_text_atomically"]

FORMAT = "rollflow-checkpoint"
VERSION = 1
_NAME = re.compile(r"^step_(\d{8,})\.json$")


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint (tensors on CPU)."""

    path: Path
    step: int
    config: TrainConfig
    stats: NormStats
    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    info: dict[str, Any]
    extra_emas: dict[float, dict[str, torch.Tensor]] = dataclasses.field(default_factory=dict)

    def ema_weights(self, decay: float | None = None) -> dict[str, torch.Tensor]:
        """The EMA weights of `decay` (None: the run's `optim.ema_decay`); CheckpointError
        naming the decays kept if this one was not."""
        if decay is None or decay == self.config.optim.ema_decay:
            return self.ema
        if decay not in self.extra_emas:
            kept = ", ".join(f"{d:g}" for d in [self.config.optim.ema_decay, *self.extra_emas])
            raise CheckpointError(f"{self.path}: no EMA with decay {decay:g} (kept: {kept})")
        return self.extra_emas[decay]


def checkpoint_dir(run_dir: str | Path) -> Path:
    """Where a run keeps its checkpoints."""
    return Path(run_dir) / "checkpoints"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a synced temporary file and a rename, so that an
    interruption leaves either the old file or the new one, never half of it."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _optimizer_tensors(state_dict: dict[str, Any]) -> tuple[dict[str, torch.Tensor], list]:
    tensors = {f"optim/{index}/{key}": value.detach().cpu().contiguous()
               for index, state in state_dict["state"].items()
               for key, value in state.items()}
    return tensors, state_dict["param_groups"]


def save_checkpoint(run_dir: str | Path, *, step: int, config: TrainConfig, stats: NormStats,
                    model: dict[str, torch.Tensor], ema: dict[str, torch.Tensor],
                    optimizer: dict[str, Any], info: dict[str, Any],
                    extra_emas: dict[float, dict[str, torch.Tensor]] | None = None) -> Path:
    """Write the checkpoint of `step` atomically; returns the JSON path.

    `model`/`ema` are state dicts, `optimizer` an optimiser state dict (tensor state only),
    `info` JSON-serialisable extras (data split, loader position, grid size).
    """
    directory = checkpoint_dir(run_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"step_{step:08d}"
    optim_tensors, param_groups = _optimizer_tensors(optimizer)
    tensors = {**{f"model/{k}": v.detach().cpu().contiguous() for k, v in model.items()},
               **{f"ema/{k}": v.detach().cpu().contiguous() for k, v in ema.items()},
               **{f"ema@{decay!r}/{k}": v.detach().cpu().contiguous()
                  for decay, weights in (extra_emas or {}).items() for k, v in weights.items()},
               **optim_tensors}
    weights = directory / f"{stem}.safetensors"
    tmp = weights.with_name(weights.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": FORMAT, "step": str(step)})
    os.replace(tmp, weights)
    meta = {"format": FORMAT, "version": VERSION, "step": step,
            "config": to_mapping(config), "config_hash": config_hash(config),
            "normalisation": {"mean": stats.mean, "std": stats.std},
            "optimizer_param_groups": param_groups, "info": info,
            "tensors_file": weights.name, "tensors_sha256": _sha256(weights)}
    path = directory / f"{stem}.json"
    write_text_atomically(path, json.dumps(meta, indent=1))
    return path


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: unreadable checkpoint metadata ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a rollflow checkpoint (format tag "
                              f"{meta.get('format') if isinstance(meta, dict) else None!r}, "
                              f"expected {FORMAT!r})")
    version = meta.get("version")
    if isinstance(version, int) and version > VERSION:
        raise CheckpointError(f"{path}: written by a newer rollflow (checkpoint format "
                              f"version {version}; this one reads version {VERSION}); "
                              f"upgrade rollflow to load it")
    if version != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version!r}; "
                              f"this rollflow reads version {VERSION}")
    return meta


def _split_tensors(tensors: dict[str, torch.Tensor]) -> tuple[dict, dict, dict, dict]:
    model, ema, optim_state, extra = {}, {}, {}, {}
    for name, value in tensors.items():
        kind, _, rest = name.partition("/")
        if kind == "model":
            model[rest] = value
        elif kind == "ema":
            ema[rest] = value
        elif kind.startswith("ema@"):
            extra.setdefault(float(kind.removeprefix("ema@")), {})[rest] = value
        elif kind == "optim":
            index, _, key = rest.partition("/")
            optim_state.setdefault(int(index), {})[key] = value
    return model, ema, optim_state, extra


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and verify a checkpoint written by `save_checkpoint` (its JSON path)."""
    path = Path(path)
    meta = _read_meta(path)
    try:
        weights = path.with_name(meta["tensors_file"])
        expected_sha, step = meta["tensors_sha256"], int(meta["step"])
        stats = NormStats(**meta["normalisation"])
        config = train_config_from_mapping(meta["config"], where=f"{path} config")
    except (KeyError, TypeError, ValueError, ConfigError) as err:
        raise CheckpointError(f"{path}: incomplete or invalid checkpoint metadata ({err})") \
            from None
    if config_hash(config) != meta.get("config_hash"):
        raise CheckpointError(f"{path}: stored config does not match its config hash "
                              "(edited or foreign checkpoint)")
    if not weights.is_file():
        raise CheckpointError(f"{path}: tensor file {weights.name} is missing")
    if _sha256(weights) != expected_sha:
        raise CheckpointError(f"{weights}: sha256 does not match the checkpoint metadata "
                              "(corrupted or replaced file)")
    try:
        tensors = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{weights}: unreadable tensors ({err})") from None
    model, ema, optim_state, extra = _split_tensors(tensors)
    missing = set(config.optim.extra_ema_decays) - set(extra)
    if missing:
        raise CheckpointError(f"{weights}: the EMAs with decay "
                              f"{', '.join(f'{d:g}' for d in sorted(missing))} are missing")
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g
              for g in meta["optimizer_param_groups"]]
    return Checkpoint(path=path, step=step, config=config, stats=stats, model=model, ema=ema,
                      optimizer={"state": optim_state, "param_groups": groups},
                      info=meta.get("info", {}), extra_emas=extra)


def _steps(run_dir: str | Path) -> list[tuple[int, Path]]:
    directory = checkpoint_dir(run_dir)
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """JSON path of the newest checkpoint of a run, or None if it has none."""
    found = _steps(run_dir)
    return found[-1][1] if found else None


def latest_progress(run_dir: str | Path) -> tuple[int, dict[str, Any]]:
    """(step, info) of a run's newest checkpoint from its metadata alone (no tensors read):
    info holds cpu_seconds, samples_seen, …; (0, {}) for a run without checkpoints."""
    found = _steps(run_dir)
    if not found:
        return 0, {}
    step, path = found[-1]
    return step, _read_meta(path).get("info", {})


def prune_checkpoints(run_dir: str | Path, keep: int) -> None:
    """Delete all but the newest `keep` checkpoints (JSON first, so none is left half)."""
    for _, path in _steps(run_dir)[:-keep]:
        path.unlink()
        path.with_suffix(".safetensors").unlink(missing_ok=True)
