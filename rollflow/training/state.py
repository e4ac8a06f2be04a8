"""Everything a training run holds in memory, built fresh or restored from a checkpoint.

`prepare_run` opens the store lazily, checks it against the config (grid, frame count,
split) and against the checkpoint when resuming, computes or restores the normalisation
statistics, and builds network, EMA copy, optimiser and objective on the chosen device.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rollflow.configio import to_mapping
from rollflow.conventions import SAMPLE, VORTICITY
from rollflow.diffusion import make_objective
from rollflow.diffusion.distill import DistillationObjective
from rollflow.errors import CheckpointError, ConfigError, DataError
from rollflow.nets import build_network
from rollflow.nets.precision import bf16_available
from rollflow.specs import FlowSpec
from rollflow.store import open_trajectories
from rollflow.store.lock import WriterLock
from rollflow.symmetry import group_order
from rollflow.training.checkpoint import Checkpoint, latest_checkpoint, load_checkpoint
from rollflow.training.config import TrainConfig, config_hash
from rollflow.training.distributed import ProcessGroup
from rollflow.training.data import (NormStats, StepBatchSampler, WindowDataset, check_grid,
                                    compute_norm_stats, derive_seed, split_samples)
from rollflow.training.metrics import MetricsLog

__all__ = ["RunState", "prepare_run", "resolve_device", "num_symmetry_elements"]


def resolve_device(name: str) -> torch.device:
    """"auto" → CUDA when available, else CPU; "cuda" without a GPU is a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("runtime.device = 'cuda' but no CUDA device is available")
    return torch.device(name)


@dataclasses.dataclass
class RunState:
    """Mutable state of a run; `step` counts completed optimisation steps."""

    config: TrainConfig
    run_dir: Path
    device: torch.device
    network: nn.Module
    forward: Any            # network, or its torch.compile wrapper (training steps only)
    ema: nn.Module
    extra_emas: dict[float, nn.Module]   # decay → EMA copy (optim.extra_ema_decays)
    optimizer: torch.optim.Optimizer
    objective: Any
    train_set: WindowDataset
    val_set: WindowDataset | None
    sampler: StepBatchSampler
    stats: NormStats
    info: dict[str, Any]
    log: MetricsLog
    step: int = 0
    saved_step: int = -1
    in_commit: bool = False
    cpu_seconds: float = 0.0  # process CPU time spent in the training loop, all sessions
    group: ProcessGroup = dataclasses.field(default_factory=ProcessGroup)  # rank 0 writes
    lock: Any = None          # rank 0's writer lock on run_dir, held while the state lives
    autocast: bool = False    # forward passes under bf16 autocast (CUDA; CPU: runtime.bf16)
    notice: str | None = None  # one line for the user about how the run executes

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the weights and of every batch (runtime.precision)."""
        return torch.float64 if self.config.runtime.precision == "float64" else torch.float32

    @property
    def samples_seen(self) -> int:
        """Training windows drawn so far: completed steps × batch size."""
        return self.step * self.config.optim.batch_size


def _open_data(config: TrainConfig, data_path: str | Path) -> tuple[Any, int, int]:
    """(vorticity, grid size, forcing wavenumber k_f) of the store."""
    dataset = open_trajectories(data_path)
    vorticity = dataset[VORTICITY]
    grid = check_grid(vorticity, config.data.grid_size)
    try:
        config.net.check_grid(grid)
    except ConfigError as err:
        raise DataError(f"store grid {grid}×{grid} does not fit the network: {err}") from None
    return vorticity, grid, FlowSpec.from_attrs(dataset.attrs).forcing_wavenumber


def preloaded(vorticity: Any, limit_mib: int) -> Any:
    """The store's vorticity read into memory when it is at most `limit_mib` MiB, else
    the lazy array as it is (the values, and so the batches, are the same either way)."""
    if vorticity.nbytes > limit_mib * 2**20:
        return vorticity
    return vorticity.load()


def num_symmetry_elements(augment: str, grid: int, forcing_wavenumber: int) -> int:
    """How many group elements the sampler draws from (0: no augmentation); DataError in
    one line when the grid does not admit the whole group."""
    if augment == "none":
        return 0
    if augment == "translations":
        return grid
    return group_order(grid, forcing_wavenumber)


def _check_resume(ckpt: Checkpoint, config: TrainConfig, grid: int, info: dict) -> None:
    if ckpt.info.get("grid_size") != grid:
        raise DataError(f"store grid is {grid}×{grid} but the checkpoint {ckpt.path.name} "
                        f"was trained on {ckpt.info.get('grid_size')}×{ckpt.info.get('grid_size')}")
    if config_hash(config) != config_hash(ckpt.config):
        raise CheckpointError(f"{ckpt.path}: written by a different config (hash "
                              f"{config_hash(ckpt.config)[:12]}, this config "
                              f"{config_hash(config)[:12]}); resume with the run's own "
                              f"config ({ckpt.path.parents[1] / 'config.json'})")
    for key in ("train_samples", "validation_samples", "teacher_step"):
        if ckpt.info.get(key) != info.get(key):
            raise DataError(f"the store's samples changed since {ckpt.path.name}: {key} was "
                            f"{ckpt.info.get(key)}, now {info[key]}")


def _check_run_dir(run_dir: Path, resume: bool) -> Path | None:
    if resume:
        return latest_checkpoint(run_dir)
    if run_dir.exists() and any(run_dir.iterdir()):
        raise CheckpointError(f"run directory {run_dir} is not empty; resume that run or "
                              f"choose a new directory")
    return None


def _build_model(config: TrainConfig, device: torch.device
                 ) -> tuple[nn.Module, nn.Module, dict[float, nn.Module]]:
    torch.manual_seed(derive_seed(config.seed, "init"))
    dtype = torch.float64 if config.runtime.precision == "float64" else torch.float32
    network = build_network(config.net, config.num_frames).to(device=device, dtype=dtype)
    ema = copy.deepcopy(network).requires_grad_(False).eval()
    extra = {decay: copy.deepcopy(ema) for decay in config.optim.extra_ema_decays}
    return network, ema, extra


def prepare_run(config: TrainConfig, data_path: str | Path, run_dir: str | Path, *,
                resume: bool, group: ProcessGroup | None = None) -> RunState:
    """Build (or restore, with `resume`) the state of a run in `run_dir`; with a `group`
    of several processes every rank builds the same state and only rank 0 writes, under
    the run directory's writer lock (`RunState.lock`; a second writer is refused)."""
    group = group or ProcessGroup()
    lock = WriterLock(run_dir) if group.is_main else None     # one writer per run dir
    try:
        return _prepare(config, data_path, Path(run_dir), resume=resume, group=group,
                        lock=lock)
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def _prepare(config: TrainConfig, data_path: str | Path, run_dir: Path, *, resume: bool,
             group: ProcessGroup, lock: Any) -> RunState:
    group.check_batch(config.optim.batch_size)
    if config.runtime.num_threads is not None:
        torch.set_num_threads(config.runtime.num_threads)
    device = resolve_device(config.runtime.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    ckpt_path = _check_run_dir(run_dir, resume)
    group.barrier()          # every rank has looked at run_dir before rank 0 writes to it
    vorticity, grid, forcing_wavenumber = _open_data(config, data_path)
    kf_net = config.net.forcing_wavenumber
    if kf_net and kf_net != forcing_wavenumber:
        raise ConfigError(f"net.forcing_wavenumber = {kf_net} but the store's flow is forced "
                          f"at k_f = {forcing_wavenumber}")
    vorticity = preloaded(vorticity, config.runtime.preload_mib)
    num_elements = num_symmetry_elements(config.data.augment, grid, forcing_wavenumber)
    train_samples, val_samples = split_samples(vorticity.sizes[SAMPLE],
                                               config.data.num_validation_samples)
    wanted = config.data.num_train_samples
    if wanted is not None:
        if wanted > len(train_samples):
            raise DataError(f"data.num_train_samples = {wanted} but the store has only "
                            f"{len(train_samples)} training samples")
        train_samples = train_samples[:wanted]
    info = {"grid_size": grid, "train_samples": train_samples,
            "validation_samples": val_samples, "frame_stride": config.data.frame_stride,
            "data_path": str(data_path)}
    dtype = torch.float64 if config.runtime.precision == "float64" else torch.float32
    teacher = None
    if config.distill.teacher is not None:
        from rollflow.training.distill import load_teacher

        teacher = load_teacher(config, device, dtype)
        info["teacher_step"] = teacher.step
    ckpt = load_checkpoint(ckpt_path) if ckpt_path is not None else None
    if ckpt is not None:
        _check_resume(ckpt, config, grid, info)
    start = teacher
    if config.init.weights is not None and ckpt is None:
        from rollflow.training.distill import load_initial

        start = load_initial(config, device)
        info |= {"init_step": start.step, "init_weights": config.init.weights}
    stats = ckpt.stats if ckpt else (start.stats if start else
                                     compute_norm_stats(vorticity, train_samples))
    windows = dict(num_frames=config.diffusion.frames_per_example, frame_stride=config.data.frame_stride,
                   stats=stats, forcing_wavenumber=forcing_wavenumber)
    windows["data_path"] = data_path
    train_set = WindowDataset(vorticity, train_samples, **windows)
    if len(train_set) < config.optim.batch_size:
        raise DataError(f"optim.batch_size = {config.optim.batch_size} exceeds the "
                        f"{len(train_set)} training windows of {data_path}; every batch "
                        f"would repeat windows — lower batch_size or add trajectories")
    val_set = WindowDataset(vorticity, val_samples, **windows) if val_samples else None
    network, ema, extra_emas = _build_model(config, device)
    if start is not None and ckpt is None:    # a student starts as its teacher (or [init])
        weights = start.network.state_dict()
        for module in (network, ema, *extra_emas.values()):
            module.load_state_dict(weights)
    objective = (make_objective(config.diffusion) if teacher is None
                 else DistillationObjective(config.diffusion, teacher.network))
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.optim.lr,
                                  weight_decay=config.optim.weight_decay)
    if group.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
    forward = torch.compile(network) if config.runtime.compile else network
    state = RunState(
        config=config, run_dir=run_dir, device=device, network=network,
        forward=group.wrap(forward, device), ema=ema, extra_emas=extra_emas,
        optimizer=optimizer, objective=objective, train_set=train_set,
        val_set=val_set, sampler=StepBatchSampler(len(train_set), config.optim.batch_size,
                                                  seed=derive_seed(config.seed, "order"),
                                                  rows=group.rows(config.optim.batch_size),
                                                  num_elements=num_elements),
        stats=stats, info=info, log=MetricsLog(run_dir / "metrics.jsonl"), group=group,
        lock=lock)
    state.autocast, state.notice = _autocast_choice(config, device)
    if ckpt is not None:
        _restore(state, ckpt)
    elif group.is_main:
        (run_dir / "config.json").write_text(json.dumps(to_mapping(config), indent=1))
    return state


def _autocast_choice(config: TrainConfig, device: torch.device) -> tuple[bool, str | None]:
    """(bf16 autocast on?, notice): always on CUDA; on CPU when runtime.bf16 asks for it and
    the CPU computes bf16 natively, else float32 with a one-line notice."""
    if device.type == "cuda":
        return True, None
    if not config.runtime.bf16:
        return False, None
    if bf16_available(device):
        return True, None
    return False, ("runtime.bf16 was asked for, but this CPU has no native bf16 "
                   "(avx512_bf16/AMX); training in float32")


def _restore(state: RunState, ckpt: Checkpoint) -> None:
    try:
        state.network.load_state_dict(ckpt.model)
        state.ema.load_state_dict(ckpt.ema)
        for decay, module in state.extra_emas.items():
            module.load_state_dict(ckpt.extra_emas[decay])
        state.optimizer.load_state_dict(ckpt.optimizer)
    except (RuntimeError, KeyError, ValueError) as err:
        raise CheckpointError(f"{ckpt.path}: tensors do not fit the network "
                              f"({str(err).splitlines()[0]})") from None
    state.step = state.saved_step = ckpt.step
    state.cpu_seconds = float(ckpt.info.get("cpu_seconds", 0.0))
    if state.group.is_main:
        state.log.truncate_after(ckpt.step)
