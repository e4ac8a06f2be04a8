"""Training objectives: rolling diffusion, standard (window-shared τ) diffusion, MSE regression.

All take a batch of consecutive frames (B, n_ctx + W, H, W): the first n_ctx are the
clean context, the rest the window to predict.

Diffusion modes (v-prediction, see `rollflow.diffusion.denoiser`):
- rolling: t ~ U[0, 1) per example; with probability β (`init_probability`) the init map
  τ_w = clip(w/W + t, 0, 1), else the rolling map τ_w = (w + t)/W.
- standard: one τ ~ U[0, 1) per example, shared by all W window frames.
Each window frame is noised at its own τ: z = α x + σ ε, and the loss is the per-frame
MSE between v̂ and v = α ε − σ x (mean over pixels).

Weighting (`loss_weighting`): "v" is unit weight on the v-MSE. Since x − x̂ = σ (v̂ − v),
this equals the x-MSE weighted by 1/σ² = 1 + exp(λ) ("SNR + 1"). "min_snr" multiplies the
v-MSE by min(SNR, γ)/(SNR + 1), i.e. weights the x-MSE by min(SNR, γ). Frames whose local time is clipped at
τ = 1 (init map, pure noise, nothing to learn) carry weight 0 and are excluded with
`where`, so even non-finite outputs there cannot leak into the loss. The loss is the mean
over the frames with nonzero weight in the batch (every example has at least slot 0).

With `train_own_context` p > 0 (diffusion modes) each example holds one more frame in front,
and with probability p its last context frame is the network's own one-call estimate
(`rollflow.diffusion.own_context`), drawn before everything else.

With `train_context_noise` s > 0 the network sees the context plus s·η (η ~ N(0, I), drawn
after the window's noise); the window is encoded against the clean context.

The window is first encoded in the config's `target` space (`rollflow.diffusion.target`):
the frames themselves, or their increments over the last context frame.

Deterministic mode: window slots are input as zeros with log_snr = λ_min and
is_context False; the loss is the MSE of the network output against the clean window (in
target space: for "increment" the output is a residual on the last context frame). Each
slot is told apart by the backbone (per-slot output channels or a per-frame embedding).
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import torch
from torch import Tensor

from rollflow.diffusion.config import DiffusionConfig
from rollflow.diffusion.denoiser import Network, call_network, v_target
from rollflow.diffusion.local_time import local_times
from rollflow.diffusion.own_context import own_context_examples
from rollflow.diffusion.rollout_crps import RolloutCRPSObjective
from rollflow.diffusion.rng import standard_normal, uniform
from rollflow.diffusion.schedule import CosineSchedule
from rollflow.diffusion.target import encode
from rollflow.errors import DataError

__all__ = [
    "Objective", "Shard", "DiffusionObjective", "DeterministicObjective", "make_objective",
    "sample_local_times", "add_noise", "frame_weights", "snr_weights", "noised",
    "split_frames", "per_frame_mse", "batch_noise", "batch_stats", "seen_context",
]


class Objective(Protocol):
    """loss(network, frames (B, n_ctx+W, H, W), *, generator) -> (scalar loss, stats)."""

    def loss(self, network: Network, frames: Tensor, *,
             generator: torch.Generator | None = None,
             shard: Shard | None = None) -> tuple[Tensor, dict[str, float]]: ...


def sample_local_times(batch_size: int, *, window_size: int, mode: str,
                       init_probability: float = 0.0, device: torch.device | str = "cpu",
                       dtype: torch.dtype = torch.float32,
                       generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Draw the training local times.

    Args:
        batch_size: B.
        window_size: W.
        mode: "rolling" (t per example, init map with probability init_probability) or
            "standard" (one τ per example shared by the window).
        init_probability: β ∈ [0, 1] (rolling only).

    Returns:
        tau (B, W) and use_init bool (B,) (always False for "standard").
    """
    device = torch.device(device)
    t = uniform((batch_size,), device=device, dtype=dtype, generator=generator)
    if mode == "standard":
        tau = t.unsqueeze(1).expand(batch_size, window_size).clone()
        return tau, torch.zeros(batch_size, dtype=torch.bool, device=device)
    if mode != "rolling":
        raise ValueError(f"sample_local_times: mode must be 'rolling' or 'standard' "
                         f"(got {mode!r})")
    coin = uniform((batch_size,), device=device, dtype=dtype, generator=generator)
    use_init = coin < init_probability
    tau = torch.where(use_init.unsqueeze(1), local_times(t, window_size, "init"),
                      local_times(t, window_size, "rolling"))
    return tau, use_init


def add_noise(x: Tensor, tau: Tensor, schedule: CosineSchedule, *,
              generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Noise each frame at its own local time: z = α(τ) x + σ(τ) ε.

    Args:
        x: clean frames (B, W, H, W).
        tau: local times (B, W).

    Returns:
        z and ε, both (B, W, H, W).
    """
    eps = standard_normal(tuple(x.shape), device=x.device, dtype=x.dtype, generator=generator)
    return noised(x, tau, eps, schedule), eps


def noised(x: Tensor, tau: Tensor, eps: Tensor, schedule: CosineSchedule) -> Tensor:
    """α(τ) x + σ(τ) ε, α and σ broadcast over the pixels."""
    alpha, sigma = schedule.alpha_sigma(tau)
    scale = (1,) * (x.ndim - tau.ndim)
    return alpha.reshape(tau.shape + scale) * x + sigma.reshape(tau.shape + scale) * eps


def frame_weights(tau: Tensor) -> Tensor:
    """Loss weight per frame: 1 where τ < 1, 0 where the local time is clipped at 1."""
    return (tau < 1.0).to(tau.dtype)


def snr_weights(log_snr: Tensor, weighting: str, gamma: float) -> Tensor:
    """Multiplier of each frame's v-MSE: 1 ("v") or min(SNR, γ)/(SNR + 1) ("min_snr")."""
    if weighting == "v":
        return torch.ones_like(log_snr)
    if weighting == "min_snr":
        snr = torch.exp(log_snr)
        return torch.clamp(snr, max=gamma) / (snr + 1.0)
    raise ValueError(f"unknown loss weighting {weighting!r}")


def split_frames(frames: Tensor, config: DiffusionConfig) -> tuple[Tensor, Tensor]:
    """(context (B, C, H, W), window (B, W, H, W)); DataError on a wrong frame count."""
    expected = config.num_context + config.window_size
    if frames.ndim != 4 or frames.shape[1] != expected:
        raise DataError(f"frames must have shape (B, num_context + window_size = {expected}, "
                        f"H, W) (got {tuple(frames.shape)})")
    return frames[:, :config.num_context], frames[:, config.num_context:]


def per_frame_mse(pred: Tensor, target: Tensor) -> Tensor:
    """Mean over pixels of (pred − target)², shape (B, W)."""
    return (pred - target).square().flatten(2).mean(dim=2)


@dataclasses.dataclass(frozen=True)
class Shard:
    """Rows start … stop − 1 of a batch of `total` rows (one process's part of a batch
    split across processes)."""

    start: int
    stop: int
    total: int

    def check(self, rows: int) -> None:
        if not 0 <= self.start < self.stop <= self.total or self.stop - self.start != rows:
            raise ValueError(f"shard {self.start}:{self.stop} of {self.total} does not fit "
                             f"{rows} rows")


def batch_noise(shard: Shard, window: Tensor, generator: torch.Generator | None) -> Tensor:
    """Standard-normal noise for the whole batch of `shard.total` windows (every process of
    a sharded batch draws the same, then keeps its rows): (shard.total, W, H, W')."""
    return standard_normal((shard.total, *window.shape[1:]), device=window.device,
                           dtype=window.dtype, generator=generator)


def seen_context(context: Tensor, scale: float, shard: Shard,
                 generator: torch.Generator | None) -> Tensor:
    """The context the network sees in training (`DiffusionConfig.train_context_noise`):
    the clean frames (B, C, H, W) plus scale·η, with η drawn for the whole batch like
    `batch_noise`. No draw at all when scale is 0, so clean runs keep their random stream."""
    if scale == 0.0:
        return context
    eta = standard_normal((shard.total, *context.shape[1:]), device=context.device,
                          dtype=context.dtype, generator=generator)
    return context + scale * eta[shard.start:shard.stop]


def batch_stats(tau: Tensor, use_init: Tensor, weight: Tensor) -> dict[str, float]:
    """Whole-batch statistics every objective logs: mean local time, share of
    initialisation-phase windows, share of frames with non-zero loss weight."""
    return {"mean_tau": tau.mean().item(),
            "fraction_init": use_init.to(tau.dtype).mean().item(),
            "fraction_weighted": weight.mean().item()}


class DiffusionObjective:
    """v-prediction loss of rolling (`config.mode == "rolling"`) or standard diffusion."""

    def __init__(self, config: DiffusionConfig) -> None:
        if config.mode not in ("rolling", "standard"):
            raise ValueError(f"DiffusionObjective needs mode 'rolling' or 'standard' "
                             f"(got {config.mode!r})")
        self.config = config
        self.schedule = config.schedule

    def loss(self, network: Network, frames: Tensor, *,
             generator: torch.Generator | None = None,
             shard: Shard | None = None) -> tuple[Tensor, dict[str, float]]:
        """Scalar loss and stats (loss, mean_tau, fraction_init, fraction_weighted; the
        last three over the whole batch).

        With `shard`, `frames` holds rows shard.start … shard.stop − 1 of a batch of
        shard.total: the local times and the noise are drawn for the whole batch (so every
        row gets the noise it would get in one process) and the loss is this shard's part
        of the batch loss — the parts of a partition sum to the whole batch's loss."""
        shard = shard or Shard(0, frames.shape[0], frames.shape[0])
        shard.check(frames.shape[0])
        if self.config.train_own_context > 0:
            frames = own_context_examples(network, frames, self.config, start=shard.start,
                                          total=shard.total, generator=generator)
        context, window = split_frames(frames, self.config)
        window = encode(window, context, self.config.target)
        tau, use_init = sample_local_times(
            shard.total, window_size=self.config.window_size, mode=self.config.mode,
            init_probability=self.config.init_probability, device=frames.device,
            dtype=frames.dtype, generator=generator)
        eps = batch_noise(shard, window, generator)
        weight = frame_weights(tau)
        stats = batch_stats(tau, use_init, weight)
        total_weight = weight.sum()
        rows = slice(shard.start, shard.stop)
        tau, eps, weight = tau[rows], eps[rows], weight[rows]
        z = noised(window, tau, eps, self.schedule)
        log_snr = self.schedule.log_snr(tau)
        alpha, sigma = self.schedule.alpha_sigma_from_log_snr(log_snr)
        seen = seen_context(context, self.config.train_context_noise, shard, generator)
        v_hat = call_network(network, seen, z, log_snr, logsnr_max=self.schedule.logsnr_max)
        mse = per_frame_mse(v_hat, v_target(window, eps, alpha, sigma))
        scale = snr_weights(log_snr, self.config.loss_weighting, self.config.min_snr_gamma)
        loss = torch.where(weight > 0, weight * scale * mse, 0.0).sum() / total_weight
        return loss, {"loss": loss.item(), **stats}


class DeterministicObjective:
    """MSE of the network output at the window slots against the clean window."""

    def __init__(self, config: DiffusionConfig) -> None:
        if config.mode != "deterministic":
            raise ValueError(f"DeterministicObjective needs mode 'deterministic' "
                             f"(got {config.mode!r})")
        self.config = config

    def loss(self, network: Network, frames: Tensor, *,
             generator: torch.Generator | None = None,
             shard: Shard | None = None) -> tuple[Tensor, dict[str, float]]:
        """Scalar loss and stats (loss); `generator` draws only the context noise
        (`train_context_noise`). With `shard`, this shard's part of the batch loss (the
        parts sum to it)."""
        shard = shard or Shard(0, frames.shape[0], frames.shape[0])
        shard.check(frames.shape[0])
        context, window = split_frames(frames, self.config)
        window = encode(window, context, self.config.target)
        log_snr = torch.full(window.shape[:2], self.config.logsnr_min, dtype=window.dtype,
                             device=window.device)
        seen = seen_context(context, self.config.train_context_noise, shard, generator)
        pred = call_network(network, seen, torch.zeros_like(window), log_snr,
                            logsnr_max=self.config.logsnr_max)
        mse = per_frame_mse(pred, window)
        loss = mse.sum() / (shard.total * mse.shape[1])
        return loss, {"loss": loss.item()}


def make_objective(config: DiffusionConfig) -> Objective:
    """The objective for `config.mode` (the rollout CRPS when train_rollout_frames > 0)."""
    if config.train_rollout_frames > 0:
        return RolloutCRPSObjective(config)
    if config.mode == "deterministic":
        return DeterministicObjective(config)
    return DiffusionObjective(config)
