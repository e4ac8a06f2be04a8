"""Training on the network's own last context frame (`DiffusionConfig.train_own_context`).

In a forecast the newest context frame is the network's own emission; in training it is a
true frame. This is the "pushforward" idea (Brandstetter et al. 2022) applied to the
rolling window: with probability p per example the last context frame is replaced by the
network's one-call estimate of that frame, without gradient, so that the loss teaches the
network to continue from frames carrying its own (on-manifold) errors.

An example then holds n_ctx + W + 1 consecutive frames f_0 … f_{n+W} (n = n_ctx):

- call A (no gradient) sees the context f_0 … f_{n−1} and the window f_n … f_{n+W−1},
  encoded in the target space and noised on the mode's local-time map at a fresh global
  time t_A (rolling: slot 0 at τ = t_A / W, as in the emitting call of a sampler with
  K = 1/t_A steps per frame); x̂ of slot 0, decoded back to a frame, is the own frame.
  A distilled student (`distilled_from` set) knows only its own time grid: its t_A is
  1/K, the global time of its emitting call (t_A is still drawn, so the draws are the same);
- the loss example is [f_1 … f_{n−1}, own | f_{n+1} … f_{n+W}] where the coin fell
  (probability p), and f_1 … f_{n+W} elsewhere.

The draws (t_A, the noise of call A, the coin) are made for the whole batch (shard.total
rows) before the loss's own draws, so a sharded batch gets the same examples as one
process; at p = 0 the objective asks for n_ctx + W frames and nothing here runs.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rollflow.diffusion.config import DiffusionConfig
from rollflow.diffusion.denoiser import Denoiser, Network
from rollflow.diffusion.local_time import local_times
from rollflow.diffusion.rng import standard_normal, uniform
from rollflow.diffusion.target import decode, encode
from rollflow.errors import DataError

__all__ = ["own_context_examples"]


def _own_frame(network: Network, frames: Tensor, tau: Tensor, eps: Tensor,
               config: DiffusionConfig) -> Tensor:
    """The network's one-call estimate of frame f_n (B, 1, H, W) from f_0 … f_{n−1} and
    the window f_n … f_{n+W−1} noised at local times tau (B, W) with noise eps."""
    from rollflow.diffusion.objective import noised     # objective calls this module

    n, w = config.num_context, config.window_size
    context = frames[:, :n]
    z = noised(encode(frames[:, n:n + w], context, config.target), tau, eps, config.schedule)
    with torch.no_grad():
        x_hat, _ = Denoiser(network, config.schedule, n)(context, z, tau)
    return decode(x_hat[:, :1], context, config.target).detach()


def own_context_examples(network: Network, frames: Tensor, config: DiffusionConfig, *,
                         start: int, total: int,
                         generator: torch.Generator | None = None) -> Tensor:
    """The loss examples (B, n_ctx + W, H, W) built from frames (B, n_ctx + W + 1, H, W).

    Args:
        network: the network being trained (called once, without gradient); for a
            distillation student, the student.
        frames: rows start … start + B − 1 of a batch of `total` examples.
        config: a diffusion-mode config with train_own_context = p ∈ (0, 1].
        generator: draws t_A, the noise of call A and the coin, for all `total` rows.
    """
    n, w = config.num_context, config.window_size
    if frames.ndim != 4 or frames.shape[1] != n + w + 1:
        raise DataError(f"train_own_context needs frames of shape (B, num_context + "
                        f"window_size + 1 = {n + w + 1}, H, W) (got {tuple(frames.shape)})")
    t = uniform((total,), device=frames.device, dtype=frames.dtype, generator=generator)
    if config.distilled_from is not None:          # the student's emitting call
        t = torch.full_like(t, 1.0 / config.steps_per_shift)
    tau = (local_times(t, w, "rolling") if config.mode == "rolling"
           else t[:, None].expand(total, w))
    eps = standard_normal((total, w, *frames.shape[2:]), device=frames.device,
                          dtype=frames.dtype, generator=generator)
    coin = uniform((total,), device=frames.device, dtype=frames.dtype,
                   generator=generator) < config.train_own_context
    rows = slice(start, start + frames.shape[0])
    own = _own_frame(network, frames, tau[rows], eps[rows], config)
    last = torch.where(coin[rows, None, None, None], own, frames[:, n:n + 1])
    return torch.cat([frames[:, 1:n], last, frames[:, n + 1:]], dim=1)
