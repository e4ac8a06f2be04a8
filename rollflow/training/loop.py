"""The training loop: a generator of metric dicts; the caller decides how to show them.

Each step: batch k = f(seed, k) (`StepBatchSampler`), noise and dropout drawn from
generators seeded with (seed, k), AdamW with linear warm-up + cosine learning rate,
global-norm gradient clipping, EMA of the weights. Every `checkpoint_every` steps (and at
the end) a checkpoint is written; every `validate_every` steps the EMA weights are scored
on fixed validation windows with fixed noise. Because nothing depends on iterator or RNG
history, a run resumed from a checkpoint continues bit-identically on deterministic CPU.

Ctrl-C (SIGINT, main thread) or SIGTERM (`kill`, the end of a background session): the
current step completes, a checkpoint is written and KeyboardInterrupt is raised — no
finished step is lost. A second signal interrupts at once (a checkpoint is still written if
no update was half-applied).

Cost accounting: the process CPU time spent in the loop (steps, validation, checkpoints;
all threads) accumulates across resumes in `RunState.cpu_seconds`, is saved in every
checkpoint's info and logged with each "train" record, next to the samples seen.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rollflow.errors import RollflowError, Terminated
from rollflow.nets.precision import autocast_bf16
from rollflow.training.checkpoint import latest_checkpoint, prune_checkpoints, save_checkpoint
from rollflow.training.config import OptimConfig, TrainConfig
from rollflow.training.data import derive_seed
from rollflow.training.distributed import ProcessGroup
from rollflow.training.metrics import plot_loss_curve
from rollflow.training.state import RunState, prepare_run

__all__ = ["train", "learning_rate", "train_step", "ema_decay_at"]


def learning_rate(optim: OptimConfig, step: int) -> float:
    """LR of step index `step` (0-based): linear warm-up to `lr`, cosine to 0 at total_steps."""
    if step < optim.warmup_steps:
        return optim.lr * (step + 1) / optim.warmup_steps
    span = max(1, optim.total_steps - optim.warmup_steps)
    progress = min(1.0, (step - optim.warmup_steps) / span)
    return optim.lr * 0.5 * (1.0 + math.cos(math.pi * progress))


def _autocast(state: RunState):
    """bf16 autocast where the run asked for it (`RunState.autocast`), else a no-op."""
    return autocast_bf16(state.device, state.autocast)


class _InterruptGuard:
    """First SIGINT/SIGTERM sets `requested`; the second raises KeyboardInterrupt at once."""

    def __init__(self) -> None:
        self.requested = False
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise self.exception()
        self.requested, self.signal = True, signum

    def exception(self) -> KeyboardInterrupt:
        """Terminated after SIGTERM, KeyboardInterrupt after SIGINT."""
        return Terminated() if self.signal == signal.SIGTERM else KeyboardInterrupt()

    def __enter__(self) -> "_InterruptGuard":
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}


def ema_decay_at(decay: float, updates: int, ramp: str) -> float:
    """Effective EMA decay of the `updates`-th update (1-based) under `ramp`
    (`OptimConfig.ema_ramp`): "short" min(decay, (1 + n)/(10 + n)); "mean" min(decay,
    (n − 1)/n), which keeps the running mean of the weights until it reaches `decay`."""
    n = float(updates)
    return min(decay, (1 + n) / (10 + n) if ramp == "short" else (n - 1) / n)


@torch.no_grad()
def _ema_update(state: RunState) -> None:
    optim = state.config.optim
    averages = [(optim.ema_decay, state.ema), *state.extra_emas.items()]
    for target, ema in averages:
        decay = ema_decay_at(target, state.step, optim.ema_ramp)
        for ema_p, p in zip(ema.parameters(), state.network.parameters()):
            ema_p.lerp_(p, 1.0 - decay)
        for ema_b, b in zip(ema.buffers(), state.network.buffers()):
            ema_b.copy_(b)


def train_step(state: RunState, frames: torch.Tensor) -> dict[str, Any]:
    """One optimisation step on `frames` (B, n_ctx+W, H, W); returns its metrics."""
    config, step = state.config, state.step
    torch.manual_seed(derive_seed(config.seed, "dropout", step))
    generator = torch.Generator(device=state.device)
    generator.manual_seed(derive_seed(config.seed, "noise", step))
    frames = frames.to(state.device, state.dtype, non_blocking=True)
    state.network.train()
    group = state.group
    with _autocast(state):
        loss, stats = state.objective.loss(state.forward, frames, generator=generator,
                                           shard=group.shard(config.optim.batch_size))
    batch_loss = group.sum(float(loss.detach()))     # this rank's part → the batch's loss
    if not math.isfinite(batch_loss):
        raise RollflowError(f"non-finite training loss at step {step}; lower optim.lr or "
                            f"check the data (last checkpoint: step {state.saved_step})")
    state.optimizer.zero_grad(set_to_none=True)
    (loss * group.world).backward()     # DDP averages over ranks: Σ of the parts' gradients
    clip = config.optim.grad_clip or math.inf
    grad_norm = torch.nn.utils.clip_grad_norm_(state.network.parameters(), clip)
    lr = learning_rate(config.optim, step)
    for group in state.optimizer.param_groups:
        group["lr"] = lr
    state.in_commit = True
    state.optimizer.step()
    state.step += 1
    _ema_update(state)
    state.in_commit = False
    return {**stats, "loss": batch_loss, "grad_norm": float(grad_norm), "lr": lr}


@torch.no_grad()
def validation_loss(state: RunState) -> float:
    """Mean loss of the EMA weights on evenly spaced validation windows, fixed noise."""
    dataset, batch = state.val_set, state.config.optim.batch_size
    count = min(len(dataset), state.config.intervals.validation_batches * batch)
    indices = np.unique(np.linspace(0, len(dataset) - 1, count).round().astype(int))
    generator = torch.Generator(device=state.device)
    generator.manual_seed(derive_seed(state.config.seed, "validation"))
    total, seen = 0.0, 0
    for first in range(0, len(indices), batch):
        chunk = indices[first:first + batch]
        frames = torch.stack([dataset[int(i)] for i in chunk]).to(state.device, state.dtype)
        with _autocast(state):
            loss, _ = state.objective.loss(state.ema, frames, generator=generator)
        total += float(loss) * len(chunk)
        seen += len(chunk)
    return total / seen


def _checkpoint(state: RunState) -> Path:
    """Write a checkpoint of the current step (rank 0; other ranks only note the step)."""
    if not state.group.is_main:
        state.saved_step = state.step
        return latest_checkpoint(state.run_dir) or state.run_dir
    epoch, offset = state.sampler.position(state.step)
    path = save_checkpoint(
        state.run_dir, step=state.step, config=state.config, stats=state.stats,
        model=state.network.state_dict(), ema=state.ema.state_dict(),
        extra_emas={d: m.state_dict() for d, m in state.extra_emas.items()},
        optimizer=state.optimizer.state_dict(),
        info={**state.info, "data_position": {"epoch": epoch, "offset": offset},
              "cpu_seconds": state.cpu_seconds, "samples_seen": state.samples_seen})
    prune_checkpoints(state.run_dir, state.config.intervals.keep_checkpoints)
    state.saved_step = state.step
    plot_loss_curve(state.log.read(), state.run_dir / "loss.png",
                    title=f"{state.config.diffusion.mode} diffusion, {state.run_dir.name}")
    return path


def _loader(state: RunState) -> Iterator[torch.Tensor]:
    state.sampler.start_step = state.step
    workers = state.config.runtime.num_workers
    # Never fork: zarr v3's I/O thread makes forked workers deadlock now and then; spawned
    # workers reopen the store themselves (WindowDataset.__getstate__).
    loader = torch.utils.data.DataLoader(
        state.train_set, batch_sampler=state.sampler, num_workers=workers,
        multiprocessing_context="spawn" if workers else None,
        persistent_workers=bool(workers), pin_memory=state.device.type == "cuda")
    return iter(loader)


def _summary(window: list[dict[str, Any]], state: RunState, seconds: float) -> dict:
    keys = [k for k, v in window[0].items() if isinstance(v, (int, float))]
    record = {k: float(np.mean([w[k] for w in window])) for k in keys}
    rate = len(window) / max(seconds, 1e-9)
    return {"kind": "train", "step": state.step, **record, "lr": window[-1]["lr"],
            "steps_per_s": rate, "samples_per_s": rate * state.config.optim.batch_size,
            "samples_seen": state.samples_seen, "cpu_seconds": state.cpu_seconds}


class _CpuClock:
    """Adds the process CPU time since the last `tick` to `state.cpu_seconds`."""

    def __init__(self, state: RunState) -> None:
        self.state, self.last = state, time.process_time()

    def tick(self) -> None:
        now = time.process_time()
        self.state.cpu_seconds += now - self.last
        self.last = now


def _run_loop(state: RunState, end: int) -> Iterator[dict[str, Any]]:
    intervals = state.config.intervals
    batches, window, tick = _loader(state), [], time.perf_counter()
    clock = _CpuClock(state)
    with _InterruptGuard() as guard:
        try:
            while state.step < end:
                metrics = train_step(state, next(batches))
                clock.tick()
                window.append(metrics)
                yield {"kind": "step", "step": state.step, **metrics}
                main = state.group.is_main
                if state.step % intervals.log_every == 0 or state.step == end:
                    record = _summary(window, state, time.perf_counter() - tick)
                    if main:
                        state.log.append(record)
                    window, tick = [], time.perf_counter()
                    yield record
                if (main and state.val_set is not None and intervals.validate_every
                        and state.step % intervals.validate_every == 0):
                    record = {"kind": "validation", "step": state.step,
                              "val_loss": validation_loss(state)}
                    clock.tick()
                    state.log.append(record)
                    yield record
                stop = state.group.any(guard.requested)   # every rank stops at this step
                if state.step % intervals.checkpoint_every == 0 or stop:
                    yield {"kind": "checkpoint", "step": state.step,
                           "path": str(_checkpoint(state))}
                if stop:
                    state.group.barrier()    # rank 0's checkpoint is on disk
                    raise guard.exception() if guard.requested else KeyboardInterrupt()
        except KeyboardInterrupt:
            if not state.in_commit and state.saved_step != state.step:
                _checkpoint(state)
            raise


def train(config: TrainConfig, data_path: str | Path, run_dir: str | Path, *,
          resume: bool = False, stop_at: int | None = None,
          group: ProcessGroup | None = None) -> Iterator[dict[str, Any]]:
    """Train (or resume) a run; returns an iterator of metric dicts.

    Setup errors (bad store, grid mismatch, foreign checkpoint, non-empty run_dir without
    `resume`) are raised by this call; training happens as the iterator is consumed.

    Args:
        config: the run's config (on resume it must hash-equal the checkpoint's config).
        data_path: trajectory store (read lazily through rollflow.store).
        run_dir: output directory: config.json, checkpoints/, metrics.jsonl, loss.png.
        resume: continue from the newest checkpoint in run_dir (fresh start if none).
        stop_at: stop after this many completed steps (≤ optim.total_steps); the learning
            rate schedule still spans optim.total_steps, so a later resume continues it.
        group: this process's place in a data-parallel run (`ProcessGroup.from_env()`
            under torchrun); default one process.

    Yields dicts with `kind`: "step" (every step: loss, grad_norm, lr, objective stats),
    "train" (averaged over log_every steps, with steps_per_s and samples_per_s),
    "validation" (val_loss of the EMA weights), "checkpoint" (path), "done" (path of the
    final checkpoint). The first dict has kind "start" (step, end, device, stats).
    Consumers that stop early should call `.throw(KeyboardInterrupt)` on the iterator to
    get a checkpoint at the current step.
    """
    state = prepare_run(config, data_path, run_dir, resume=resume, group=group)
    end = config.optim.total_steps if stop_at is None else min(stop_at, config.optim.total_steps)
    return _train_iter(state, end)


def _train_iter(state: RunState, end: int) -> Iterator[dict[str, Any]]:
    try:
        device = str(state.device) + (", bf16 autocast" if state.autocast else "")
        yield {"kind": "start", "step": state.step, "end": end, "device": device,
               "notice": state.notice,
               "train_windows": len(state.train_set), "mean": state.stats.mean,
               "std": state.stats.std}
        yield from _run_loop(state, end)
        saved = state.saved_step == state.step
        path = latest_checkpoint(state.run_dir) if saved else _checkpoint(state)
        yield {"kind": "done", "step": state.step, "path": str(path)}
    finally:
        if state.lock is not None:      # the run directory is free for the next writer
            state.lock.release()
