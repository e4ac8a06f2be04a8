"""Baseline samplers: standard (window-shared τ) diffusion and deterministic rollout.

Standard: the whole window of W frames shares one τ; N = `standard_steps` steps from
τ = 1 to 0 (uniform in τ) give W clean frames; the next block is conditioned on the last
n_ctx frames. Blocks repeat until num_frames are out; the last block is truncated.
Both samplers work in the config's `target` space and decode each block against its
context (`rollflow.diffusion.target`).
Cost: N per block, N/W network calls per frame (equal to rolling's K when N = W·K).

Deterministic: the network maps context (+ W zero frames at log_snr = λ_min) to the W
next frames directly; blocks are appended autoregressively. 1/W calls per frame.
"""

from __future__ import annotations

import abc
import math

import torch
from torch import Tensor

from rollflow.diffusion.denoiser import Denoiser
from rollflow.diffusion.sampling import (
    ProgressFn, SamplerBase, SamplerState, fresh_noise, time_grid, update_window,
)
from rollflow.diffusion.target import decode

__all__ = ["StandardSampler", "DeterministicSampler"]


class _BlockSampler(SamplerBase):
    """Shared loop: produce W frames per block from the context, append, repeat."""

    def generate(self, denoiser: Denoiser, context: Tensor, num_frames: int,
                 generator: torch.Generator | None, progress: ProgressFn | None,
                 state: SamplerState | None) -> tuple[Tensor, SamplerState | None]:
        """ceil(num_frames / W) blocks, each conditioned on the last n_ctx frames. The
        state to continue from exists only when num_frames is a multiple of W (else the
        last block was cut); `state` itself carries just the context."""
        cfg = self.config
        blocks: list[Tensor] = []
        for index in range(math.ceil(num_frames / cfg.window_size)):
            block = self.block(denoiser, context, generator)
            blocks.append(block)
            context = torch.cat([context, block], dim=1)[:, -cfg.num_context:]
            if progress is not None:
                progress(min((index + 1) * cfg.window_size, num_frames))
        whole = num_frames % cfg.window_size == 0
        return torch.cat(blocks, dim=1)[:, :num_frames], SamplerState(context) if whole else None

    @abc.abstractmethod
    def block(self, denoiser: Denoiser, context: Tensor,
              generator: torch.Generator | None) -> Tensor:
        """The next W frames (B, W, H, W) after context."""


class StandardSampler(_BlockSampler):
    """Standard diffusion: all W window frames share τ, N steps per block.

    Args:
        network: v-predicting backbone; config: W, n_ctx, standard_steps N, eta, schedule.
    """

    def block(self, denoiser: Denoiser, context: Tensor,
              generator: torch.Generator | None) -> Tensor:
        """N steps of the shared τ from 1 to 0 starting from N(0, I)."""
        window = fresh_noise(context, self.config.window_size, generator)
        grid = time_grid(self.config.num_standard_steps, context)
        for t, s in zip(grid[:-1], grid[1:]):
            window = self.step(denoiser, context, window, t, s, generator)
        return decode(window, context, self.config.target)

    def step(self, denoiser: Denoiser, context: Tensor, window: Tensor, tau_t: Tensor,
             tau_s: Tensor, generator: torch.Generator | None) -> Tensor:
        """One network call: the whole window from τ_t to τ_s (scalars)."""
        size = window.shape[1]
        return update_window(denoiser, context, window, tau_t.expand(size),
                             tau_s.expand(size), eta=self.config.eta, generator=generator)


class DeterministicSampler(_BlockSampler):
    """Autoregressive rollout of a deterministic (MSE-trained) model; no randomness.

    Args:
        network: backbone whose window output is the clean frames; config: W, n_ctx.
    """

    def block(self, denoiser: Denoiser, context: Tensor,
              generator: torch.Generator | None) -> Tensor:
        """One network call on W zero frames at log_snr = λ_min (generator unused)."""
        shape = (context.shape[0], self.config.window_size, *context.shape[2:])
        zeros = torch.zeros(shape, device=context.device, dtype=context.dtype)
        log_snr = torch.full(shape[:2], self.config.logsnr_min, device=context.device,
                             dtype=context.dtype)
        return decode(denoiser.raw(context, zeros, log_snr), context, self.config.target)
