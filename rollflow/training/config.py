"""`TrainConfig`: everything that defines one training run, loaded from TOML.

Sections of the TOML file (all optional except what a run needs to differ from defaults):
[diffusion] (DiffusionConfig), [net] (UNetConfig), [optim], [intervals], [data],
[runtime], [distill], [init] and a top-level `seed`. Unknown keys anywhere: ConfigError.

The [runtime] section (device, compile, workers, threads) changes how fast a run goes, not
what it computes, so it is left out of `config_hash`: a run may be resumed on another
device. Everything else is in the hash, and a checkpoint only resumes under a config with
the same hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Literal

from rollflow.configio import from_mapping, load_toml, to_mapping
from rollflow.diffusion import DiffusionConfig
from rollflow.errors import ConfigError
from rollflow.nets import UNetConfig

__all__ = ["OptimConfig", "IntervalsConfig", "DataConfig", "RuntimeConfig", "DistillConfig",
           "InitConfig", "TrainConfig", "load_train_config", "train_config_from_mapping",
           "config_hash", "EMA_RAMPS"]

EMA_RAMPS = ("short", "mean")


def _require(cls: str, condition: bool, field: str, allowed: str, value: Any) -> None:
    if not condition:
        raise ConfigError(f"{cls}.{field} must be {allowed} (got {value!r})")


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimConfig:
    """AdamW with linear warm-up then cosine decay to 0 at `total_steps`; EMA of weights.

    Attributes:
        lr: peak learning rate (> 0).
        weight_decay: AdamW decoupled weight decay (≥ 0).
        warmup_steps: steps of linear warm-up from lr/warmup_steps to lr (≥ 0).
        total_steps: optimisation steps of the run (≥ 1); the cosine reaches 0 here.
        grad_clip: max global gradient norm; 0 disables clipping.
        ema_decay: EMA decay per step in [0, 1), ramped up (`ema_ramp`); validates, exports.
        ema_ramp: "short": min(decay, (1 + n)/(10 + n)) after the n-th update, which every
            decay follows for its first ≈ 9 000 updates at 0.999, so in shorter runs all kept
            EMAs coincide; "mean": min(decay, (n − 1)/n), the running mean of all weights so
            far until n = 1/(1 − decay), then exponential: decay d averages the last
            ≈ 1/(1 − d) updates, and the kept EMAs differ from update 1/(1 − d_min) on.
        extra_ema_decays: further EMAs kept beside it (same ramp), saved in every
            checkpoint, so the decay can be chosen afterwards on validation skill
            (`load_trained(..., ema_decay=...)`); each in [0, 1), distinct.
        batch_size: windows per step (≥ 1).
    """

    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 100
    total_steps: int = 2000
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    ema_ramp: str = "short"
    extra_ema_decays: tuple[float, ...] = ()
    batch_size: int = 8

    def __post_init__(self) -> None:
        c = "OptimConfig"
        object.__setattr__(self, "extra_ema_decays", tuple(self.extra_ema_decays))
        _require(c, all(0 <= d < 1 for d in self.extra_ema_decays)
                 and len(set(self.extra_ema_decays) | {self.ema_decay})
                 == len(self.extra_ema_decays) + 1,
                 "extra_ema_decays", "distinct decays in [0, 1), other than ema_decay",
                 self.extra_ema_decays)
        _require(c, math.isfinite(self.lr) and self.lr > 0, "lr", "> 0", self.lr)
        _require(c, self.weight_decay >= 0, "weight_decay", "≥ 0", self.weight_decay)
        _require(c, self.warmup_steps >= 0, "warmup_steps", "≥ 0", self.warmup_steps)
        _require(c, self.total_steps >= 1, "total_steps", "≥ 1", self.total_steps)
        _require(c, self.grad_clip >= 0, "grad_clip", "≥ 0 (0: off)", self.grad_clip)
        _require(c, 0 <= self.ema_decay < 1, "ema_decay", "in [0, 1)", self.ema_decay)
        _require(c, self.ema_ramp in EMA_RAMPS, "ema_ramp", f"one of {EMA_RAMPS}", self.ema_ramp)
        _require(c, self.batch_size >= 1, "batch_size", "≥ 1", self.batch_size)


@dataclasses.dataclass(frozen=True, kw_only=True)
class IntervalsConfig:
    """How often (in steps) the loop logs, validates and checkpoints.

    Attributes:
        log_every: average the training metrics over this many steps per metrics.jsonl line.
        validate_every: validation loss of the EMA weights every this many steps (0: never).
        validation_batches: batches in each validation (fixed windows, fixed noise).
        checkpoint_every: checkpoint every this many steps (the last step always is one).
        keep_checkpoints: most recent checkpoints kept on disk (≥ 1).
    """

    log_every: int = 10
    validate_every: int = 200
    validation_batches: int = 4
    checkpoint_every: int = 200
    keep_checkpoints: int = 2

    def __post_init__(self) -> None:
        c = "IntervalsConfig"
        _require(c, self.log_every >= 1, "log_every", "≥ 1", self.log_every)
        _require(c, self.validate_every >= 0, "validate_every", "≥ 0", self.validate_every)
        _require(c, self.validation_batches >= 1, "validation_batches", "≥ 1",
                 self.validation_batches)
        _require(c, self.checkpoint_every >= 1, "checkpoint_every", "≥ 1",
                 self.checkpoint_every)
        _require(c, self.keep_checkpoints >= 1, "keep_checkpoints", "≥ 1",
                 self.keep_checkpoints)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DataConfig:
    """Which windows of the store are used.

    Attributes:
        grid_size: grid points per side the model is built for; None → taken from the
            store (and then fixed in the checkpoint). A store with another grid is a DataError.
        num_validation_samples: the last this many samples (by index) of the store are held
            out for validation; the others train. 0 → no validation.
        num_train_samples: train on only the first this many of the remaining samples
            (a data-size ablation); None → all of them.
        frame_stride: use every `frame_stride`-th saved frame (model Δt = stride · save_interval).
        augment: symmetry augmentation of every training window (`rollflow.symmetry`):
            "none"; "translations" (a random x-shift by whole grid points); "group" (a
            random element of the whole group: translations × shift-reflects × rotation by
            π, 4·k_f·N elements; needs N divisible by 2·k_f). One element per window, the
            same for all its frames.
    """

    grid_size: int | None = None
    num_validation_samples: int = 1
    num_train_samples: int | None = None
    frame_stride: int = 1
    augment: Literal["none", "translations", "group"] = "none"

    def __post_init__(self) -> None:
        c = "DataConfig"
        _require(c, self.grid_size is None or self.grid_size >= 4, "grid_size", "≥ 4 or omitted",
                 self.grid_size)
        _require(c, self.num_validation_samples >= 0, "num_validation_samples", "≥ 0",
                 self.num_validation_samples)
        _require(c, self.num_train_samples is None or self.num_train_samples >= 1,
                 "num_train_samples", "≥ 1 or omitted", self.num_train_samples)
        _require(c, self.frame_stride >= 1, "frame_stride", "≥ 1", self.frame_stride)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RuntimeConfig:
    """Where and how fast a run executes (not part of the config hash).

    Attributes:
        device: "auto" (CUDA if available, else CPU), "cpu" or "cuda". On CUDA the forward
            pass runs under bf16 autocast.
        bf16: on a CPU with native bf16 (avx512_bf16/AMX), the forward pass and loss run
            under bf16 autocast too (weights, optimiser and EMAs stay float32); 1.3–1.6× the
            steps/s at batch 8, 1.7–1.8× at batch 32 on the project's Intel Xeon
            (docs/performance.md). Without native bf16 the run says so and uses float32.
            A distillation teacher's calls stay in float32 (its targets unrounded).
        compile: wrap the network in torch.compile for training steps.
        num_workers: DataLoader worker processes (0: load in the training process).
        preload_mib: read the store's vorticity into memory at the start when it is at most
            this many MiB (0: read every window from the store). Same values, so the same
            run, without a chunk decompression per window.
        num_threads: torch intra-op CPU threads; None leaves torch's default.
        precision: "float32" (default) or "float64" weights, optimiser state and batches:
            for exactness checks (sums in another order then differ by ~1e-16, not 1e-7),
            several times slower. Checkpoints keep the dtype; `load_trained` casts to the
            network it builds.
    """

    device: Literal["auto", "cpu", "cuda"] = "auto"
    compile: bool = False
    bf16: bool = False
    num_workers: int = 0
    preload_mib: int = 2048
    num_threads: int | None = None
    precision: Literal["float32", "float64"] = "float32"

    def __post_init__(self) -> None:
        c = "RuntimeConfig"
        _require(c, self.num_workers >= 0, "num_workers", "≥ 0", self.num_workers)
        _require(c, self.num_threads is None or self.num_threads >= 1, "num_threads",
                 "≥ 1 or omitted", self.num_threads)
        _require(c, self.preload_mib >= 0, "preload_mib", "≥ 0", self.preload_mib)
        _require(c, not (self.bf16 and self.precision == "float64"), "bf16",
                 "false with precision = 'float64'", self.bf16)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DistillConfig:
    """Progressive distillation (`rollflow.diffusion.distill`): train a student with half
    the teacher's steps per shift to match two of its DDIM updates with one.

    Attributes:
        teacher: the teacher, as `load_trained` accepts it (run directory, checkpoint JSON
            or shipped model name); None: an ordinary run on data alone.
        teacher_ema_decay: which of the teacher run's EMAs (None: its optim.ema_decay).
    """

    teacher: str | None = None
    teacher_ema_decay: float | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class InitConfig:
    """Warm start: a new run (its own optimiser, schedule and step count) whose network and
    every EMA start from another trained model's weights and normalisation — to train a
    model on past the end of its learning-rate schedule.

    Attributes:
        weights: the model, as `load_trained` accepts it (run directory, checkpoint JSON or
            shipped name); None: random initial weights. Its [diffusion] and [net] must equal
            this run's.
        ema_decay: which of its EMAs (None: its optim.ema_decay).
    """

    weights: str | None = None
    ema_decay: float | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """One training run: objective + backbone + optimiser + schedule + data + runtime + seed.

    `seed` (≥ 0) fixes the initial weights, the order of the windows and every noise draw:
    the batch and the noise of step k are functions of (seed, k) only.
    """

    diffusion: DiffusionConfig = dataclasses.field(default_factory=DiffusionConfig)
    net: UNetConfig = dataclasses.field(default_factory=UNetConfig)
    optim: OptimConfig = dataclasses.field(default_factory=OptimConfig)
    intervals: IntervalsConfig = dataclasses.field(default_factory=IntervalsConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)
    distill: DistillConfig = dataclasses.field(default_factory=DistillConfig)
    init: InitConfig = dataclasses.field(default_factory=InitConfig)
    seed: int = 0

    def __post_init__(self) -> None:
        _require("TrainConfig", self.seed >= 0, "seed", "≥ 0", self.seed)
        taught, tuned = self.distill.teacher is not None, self.diffusion.train_rollout_frames > 0
        distilled = self.diffusion.distilled_from is not None    # a student tuned on rollouts:
        if taught != distilled and not (distilled and tuned and self.init.weights):  # [init]
            raise ConfigError("a distillation run needs both [distill].teacher and "
                              "diffusion.distilled_from (rollflow distill sets both)")
        if self.init.weights is not None and taught:
            raise ConfigError("[init].weights and [distill].teacher exclude each other (a "
                              "student starts from its teacher's weights)")
        if self.data.grid_size is not None:
            self.net.check_grid(self.data.grid_size)

    @property
    def num_frames(self) -> int:
        """Frames the network sees, num_context + window_size (see frames_per_example)."""
        return self.diffusion.num_context + self.diffusion.window_size

    def replace(self, **changes: Any) -> "TrainConfig":
        """A copy with some top-level sections replaced (validated again)."""
        return dataclasses.replace(self, **changes)


def load_train_config(path: str | Path) -> TrainConfig:
    """Read a TOML training config; unknown keys or bad values raise ConfigError."""
    return train_config_from_mapping(load_toml(path), where=str(path))


def train_config_from_mapping(data: dict[str, Any], *, where: str) -> TrainConfig:
    """Build a TrainConfig from a nested mapping (as read from TOML or a checkpoint)."""
    return from_mapping(TrainConfig, data, where=where)


_ADDED_LATER = {("data", "augment"): "none", ("optim", "extra_ema_decays"): [],
                ("optim", "ema_ramp"): "short", ("diffusion", "distilled_from"): None,
                ("diffusion", "train_context_noise"): 0.0, ("diffusion", "train_own_context"): 0.0,
                ("diffusion", "train_rollout_frames"): 0, ("diffusion", "train_rollout_members"): 2,
                ("distill", None): {"teacher": None, "teacher_ema_decay": None},
                ("init", None): {"weights": None, "ema_decay": None}}
"""Fields and sections (key None) added after checkpoints were first written, with their
defaults: they enter the hash only when set otherwise, so older configs keep their hash."""


def config_hash(config: TrainConfig) -> str:
    """sha256 (hex) of the canonical JSON of every section except [runtime]."""
    mapping = to_mapping(config)
    mapping.pop("runtime")
    for (section, key), default in _ADDED_LATER.items():
        if key is None and mapping.get(section) == default:
            del mapping[section]
        elif key is not None and mapping[section].get(key) == default:
            del mapping[section][key]
    text = json.dumps(mapping, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
