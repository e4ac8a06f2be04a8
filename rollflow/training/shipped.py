"""Trained models shipped inside the package, addressable by name (e.g. "kf32-rolling").

A shipped model is two files in `rollflow/weights/`:

    <name>.safetensors   the EMA weights (float16 by default: half the size, and the
                         forecasts agree with float32 weights to rounding)
    <name>.json          format tag and version, the resolved training config, the
                         normalisation stats, grid size, step, sha256 of the weights, and a
                         model card (data spec, budget, commit, scores) for docs/models.md

`export_model(run_dir, name)` writes them from a training run; `shipped_models()` lists
what ships; `load_trained(name)` (rollflow.training.trained) accepts a name wherever it
accepts a run directory.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from rollflow.configio import to_mapping
from rollflow.errors import CheckpointError
from rollflow.training.checkpoint import (latest_checkpoint, load_checkpoint,
                                          write_text_atomically)
from rollflow.training.config import train_config_from_mapping
from rollflow.training.data import NormStats

__all__ = ["WEIGHTS_DIR", "MODEL_FORMAT", "shipped_models", "read_model_card", "recard_model",
           "released_model", "export_model", "write_model", "load_shipped_tensors",
           "shipped_parts", "cpu_hours_by_stage"]

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
MODEL_FORMAT = "rollflow-model"
MODEL_VERSION = 1


def shipped_models(directory: Path | None = None) -> list[str]:
    """Names of the models in `directory` (default WEIGHTS_DIR) with both files, sorted."""
    directory = directory or WEIGHTS_DIR
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.json")
                  if p.with_suffix(".safetensors").is_file())


def read_model_card(name: str, directory: Path | None = None) -> dict[str, Any]:
    """The JSON of a shipped model; CheckpointError listing the shipped names if unknown."""
    directory = directory or WEIGHTS_DIR
    path = directory / f"{name}.json"
    if not path.is_file() or not path.with_suffix(".safetensors").is_file():
        names = ", ".join(shipped_models(directory)) or "none"
        raise CheckpointError(f"no shipped model named {name!r} (shipped: {names}) and no "
                              f"run directory or checkpoint at that path")
    meta = json.loads(path.read_text())
    version = meta.get("version")
    if meta.get("format") == MODEL_FORMAT and isinstance(version, int) \
            and version > MODEL_VERSION:
        raise CheckpointError(f"{path}: written by a newer rollflow (model format version "
                              f"{version}; this one reads version {MODEL_VERSION}); upgrade "
                              f"rollflow to load it")
    if meta.get("format") != MODEL_FORMAT or version != MODEL_VERSION:
        raise CheckpointError(f"{path}: not a {MODEL_FORMAT} v{MODEL_VERSION} file")
    return meta


def cpu_hours_by_stage(ref: str | Path) -> dict[str, float]:
    """CPU-hours of what produced `ref`: a shipped model's card (its `cpu_hours_by_stage`,
    the data included; {} when the card has none), or a run directory's own training
    ({"training": h}, from its newest checkpoint) after the stages of the model its [init]
    warm start began from (recursively, each key prefixed with that reference as the run's
    config.json names it, resolved like `load_trained`)."""
    from rollflow.training.checkpoint import latest_progress

    if Path(ref).is_dir():
        config = Path(ref) / "config.json"
        source = (json.loads(config.read_text()).get("init", {}).get("weights")
                  if config.is_file() else None)
        before = ({f"{source} {k}": h for k, h in cpu_hours_by_stage(source).items()}
                  if source else {})
        return {**before,
                "training": latest_progress(ref)[1].get("cpu_seconds", 0.0) / 3600}
    return dict(read_model_card(str(ref))["card"].get("cpu_hours_by_stage", {}))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_shipped_tensors(name: str, directory: Path | None = None
                         ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(card JSON, float32 state dict) of a shipped model; checks the sha256."""
    directory = directory or WEIGHTS_DIR
    meta = read_model_card(name, directory)
    weights = directory / f"{name}.safetensors"
    if _sha256(weights) != meta["sha256"]:
        raise CheckpointError(f"{weights}: sha256 differs from {name}.json (corrupted file)")
    tensors = {k: v.float() for k, v in load_file(str(weights)).items()}
    return meta, tensors


def export_model(run_dir: str | Path, name: str, *, card: dict[str, Any] | None = None,
                 directory: Path | None = None, dtype: torch.dtype = torch.float16,
                 ema_decay: float | None = None) -> Path:
    """Write the newest checkpoint's EMA weights of `run_dir` (the EMA of `ema_decay`;
    None: the run's `optim.ema_decay`) as shipped model `name`."""
    found = latest_checkpoint(run_dir)
    if found is None:
        raise CheckpointError(f"{run_dir} holds no checkpoint to export")
    ckpt = load_checkpoint(found)
    return write_model(name, ckpt.ema_weights(ema_decay), config=ckpt.config,
                       stats=ckpt.stats, grid_size=ckpt.info.get("grid_size"),
                       step=ckpt.step, card=card, directory=directory, dtype=dtype,
                       ema_decay=ckpt.config.optim.ema_decay if ema_decay is None
                       else ema_decay)


def write_model(name: str, weights: dict[str, torch.Tensor], *, config, stats: NormStats,
                grid_size: int | None, step: int, card: dict[str, Any] | None = None,
                directory: Path | None = None, dtype: torch.dtype = torch.float16,
                ema_decay: float | None = None) -> Path:
    """Write a state dict with its config and normalisation as shipped model `name` in
    `directory` (default WEIGHTS_DIR); returns the JSON's path. Each file is written in
    full under a temporary name and then renamed (tensors, then JSON), so an interrupted
    write never leaves a partial file under the model's name."""
    directory = directory or WEIGHTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path, json_path = directory / f"{name}.safetensors", directory / f"{name}.json"
    partial = path.with_name(f".{path.name}.partial")
    save_file({k: v.to(dtype).contiguous() for k, v in weights.items()}, str(partial))
    meta = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "name": name,
            "config": to_mapping(config), "stats": {"mean": stats.mean, "std": stats.std},
            "grid_size": grid_size, "step": step, "ema_decay": ema_decay,
            "weights_dtype": str(dtype).removeprefix("torch."),
            "sha256": _sha256(partial), "card": card or {}}
    partial.replace(path)
    write_text_atomically(json_path, json.dumps(meta, indent=1))
    return json_path


def released_model(commit: str, name: str, directory: str | Path,
                   root: str | Path | None = None) -> Path:
    """The shipped model `name` as it was at `commit` of this repository (a later model may
    have taken the name): its two files extracted from git into `directory` as
    `<name>@<commit>.json/.safetensors` (kept when there) — the returned tensor path loads
    with `load_trained`. `root`: the repository (default: this package's). FileNotFoundError
    in one line when git has no such files."""
    from rollflow.provenance import file_at_commit

    target = Path(directory) / f"{name}@{commit}.safetensors"
    for suffix in (".json", ".safetensors"):
        if not target.with_suffix(suffix).exists():
            file_at_commit(commit, f"rollflow/weights/{name}{suffix}",
                           target.with_suffix(suffix), root=root or WEIGHTS_DIR)
    return target


def recard_model(name: str, card: dict[str, Any], directory: Path | None = None) -> Path:
    """Replace the card of shipped model `name` (new test readings, a sampling choice),
    its weights untouched: the JSON is rewritten through a temporary file, so it is whole
    or as before."""
    meta = read_model_card(name, directory)
    path = (directory or WEIGHTS_DIR) / f"{name}.json"
    write_text_atomically(path, json.dumps({**meta, "card": card}, indent=1))
    return path


def shipped_parts(meta: dict[str, Any]):
    """(TrainConfig, NormStats, grid size, step) of a card read by `read_model_card`."""
    config = train_config_from_mapping(meta["config"], where=f"{meta['name']}.json config")
    stats = NormStats(mean=meta["stats"]["mean"], std=meta["stats"]["std"])
    return config, stats, int(meta["grid_size"]), int(meta["step"])
