"""Sampling primitives shared by the samplers: the DDIM/ancestral step, the window update,
call statistics and argument checks.

DDIM step with η ∈ [0, 1] (Song et al. 2021, σ-DDIM form) from time t to s < t, in logSNR:

    σ_η² = η² σ_s² (1 − exp(λ_t − λ_s)),
    z_s  = α_s x̂ + sqrt(σ_s² − σ_η²) ε̂ + σ_η ξ,   ξ ~ N(0, I).

η = 0 is deterministic DDIM (z_s = α_s x̂ + σ_s ε̂); η = 1 samples the Gaussian posterior
q(z_s | z_t, x = x̂). For any η the marginal of z_s is α_s x + σ_s·N(0, I) when x̂ = x.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import Protocol

import torch
from torch import Tensor

from rollflow.diffusion.config import DiffusionConfig
from rollflow.diffusion.denoiser import Denoiser, Network
from rollflow.diffusion.rng import standard_normal
from rollflow.diffusion.schedule import CosineSchedule
from rollflow.errors import DataError

__all__ = ["Sampler", "SamplerBase", "SampleStats", "SamplerState", "ProgressFn", "ddim_step", "update_window",
           "check_sampling_args", "fresh_noise", "time_grid"]

ProgressFn = Callable[[int], None]
"""Called with the number of frames emitted so far."""


@dataclasses.dataclass(frozen=True)
class SampleStats:
    """Cost of the last sampler call: network calls and emitted frames (per batch row)."""

    network_calls: int = 0
    emitted_frames: int = 0

    @property
    def calls_per_frame(self) -> float:
        """Network calls per emitted frame (0 before any call)."""
        return self.network_calls / self.emitted_frames if self.emitted_frames else 0.0


@dataclasses.dataclass(frozen=True)
class SamplerState:
    """Where a sampler stopped, so that a later call continues the same forecast.

    Attributes:
        context: the last n_ctx emitted (or given) frames (B, n_ctx, H, W).
        window: the rolling window right after its last emission (B, W, H, W), its slots
            at the local times τ_w = w/W (slot 0 just emitted); None for block samplers.

    With the generator in the state it had when the call returned, `sampler(context, n,
    state=s)` emits exactly the frames that one call for (frames so far + n) would have
    emitted next (the same arithmetic in the same order: equal bit for bit).
    """

    context: Tensor
    window: Tensor | None = None


class Sampler(Protocol):
    """sampler(context (B, n_ctx, H, W), num_frames) -> (B, num_frames, H, W); sets `stats`
    and `state` (a `SamplerState` to continue from, or None where it cannot)."""

    stats: SampleStats
    state: SamplerState | None

    def __call__(self, context: Tensor, num_frames: int, *,
                 generator: torch.Generator | None = None,
                 progress: ProgressFn | None = None,
                 state: SamplerState | None = None) -> Tensor: ...


def ddim_step(z: Tensor, x_hat: Tensor, eps_hat: Tensor, *, log_snr_t: Tensor,
              log_snr_s: Tensor, eta: float, noise: Tensor | None = None) -> Tensor:
    """One DDIM/ancestral step of every frame from its λ_t to its λ_s ≥ λ_t.

    Args:
        z, x_hat, eps_hat: (B, W, H, W).
        log_snr_t, log_snr_s: per-frame logSNR (B, W) (leading dims of z).
        eta: η ∈ [0, 1].
        noise: ξ of z's shape; required when eta > 0.

    Returns:
        z_s (B, W, H, W). Frames with λ_s = λ_t (both clipped) come out as α x̂ + σ ε̂ = z.
    """
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must be in [0, 1] (got {eta})")
    if log_snr_t.shape != log_snr_s.shape or log_snr_s.shape != z.shape[:log_snr_s.ndim]:
        raise ValueError(f"log_snr_t {tuple(log_snr_t.shape)} and log_snr_s "
                         f"{tuple(log_snr_s.shape)} must equal the leading dims of z "
                         f"{tuple(z.shape)}")
    expand = (1,) * (z.ndim - log_snr_s.ndim)
    alpha_s, sigma_s = CosineSchedule.alpha_sigma_from_log_snr(log_snr_s.reshape(
        log_snr_s.shape + expand))
    gap = (log_snr_t - log_snr_s).reshape(log_snr_s.shape + expand)
    var_eta = (eta**2 * sigma_s**2 * -torch.expm1(gap)).clamp(min=0.0)
    z_s = alpha_s * x_hat + (sigma_s**2 - var_eta).clamp(min=0.0).sqrt() * eps_hat
    if eta > 0.0:
        if noise is None:
            raise ValueError("ddim_step with eta > 0 needs noise")
        z_s = z_s + var_eta.sqrt() * noise
    return z_s


def update_window(denoiser: Denoiser, context: Tensor, z: Tensor, tau_t: Tensor,
                  tau_s: Tensor, *, eta: float,
                  generator: torch.Generator | None = None) -> Tensor:
    """One network call and one update of every window slot from τ_t to τ_s ≤ τ_t.

    Args:
        context: clean context (B, C, H, W).
        z: the window (B, W, H, W).
        tau_t, tau_s: local times (W,) or (B, W).

    Returns:
        The window at τ_s: slots reaching τ_s = 0 are exactly x̂ (clean); slots with
        τ_s = τ_t (clipped at 1 during init) are returned unchanged.
    """
    tau_t = torch.broadcast_to(tau_t, z.shape[:2])
    tau_s = torch.broadcast_to(tau_s, z.shape[:2])
    x_hat, eps_hat = denoiser(context, z, tau_t)
    schedule = denoiser.schedule
    noise = fresh_noise(z, z.shape[1], generator) if eta > 0.0 else None
    z_s = ddim_step(z, x_hat, eps_hat, log_snr_t=schedule.log_snr(tau_t),
                    log_snr_s=schedule.log_snr(tau_s), eta=eta, noise=noise)
    z_s = torch.where((tau_s == 0)[..., None, None], x_hat, z_s)
    return torch.where((tau_s == tau_t)[..., None, None], z, z_s)


def fresh_noise(like: Tensor, num_frames: int,
                generator: torch.Generator | None = None) -> Tensor:
    """N(0, I) frames (B, num_frames, H, W) on the device and in the dtype of `like`."""
    shape = (like.shape[0], num_frames, *like.shape[2:])
    return standard_normal(shape, device=like.device, dtype=like.dtype, generator=generator)


def check_sampling_args(context: Tensor, num_frames: int, num_context: int) -> None:
    """DataError/ValueError unless context is (B, num_context, H, W) and num_frames ≥ 1."""
    if context.ndim != 4 or context.shape[1] != num_context:
        raise DataError(f"context must have shape (B, num_context = {num_context}, H, W) "
                        f"(got {tuple(context.shape)})")
    if not context.is_floating_point():
        raise DataError(f"context must be a floating-point tensor (got {context.dtype})")
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames must be an integer ≥ 1 (got {num_frames!r})")


def time_grid(num_steps: int, like: Tensor) -> Tensor:
    """Global times 1, (n−1)/n, …, 0 (num_steps + 1 values) in the dtype of `like`."""
    grid = torch.arange(num_steps, -1, -1, dtype=torch.float64) / num_steps
    return grid.to(device=like.device, dtype=like.dtype)


class SamplerBase(abc.ABC):
    """What every sampler shares: the wrapped network, its config and last-call stats.

    `__call__(context (B, n_ctx, H, W), num_frames)` checks the arguments, runs
    `generate` without gradients and records the network calls in `stats` and where it
    stopped in `state` (pass it back as `state=` to continue; `context` is then ignored).
    Randomness comes only from `generator`; device and dtype follow `context`.
    """

    def __init__(self, network: Network, config: DiffusionConfig) -> None:
        self.network = network
        self.config = config
        self.schedule = config.schedule
        self.stats = SampleStats()
        self.state: SamplerState | None = None

    def __call__(self, context: Tensor, num_frames: int, *,
                 generator: torch.Generator | None = None,
                 progress: ProgressFn | None = None,
                 state: SamplerState | None = None) -> Tensor:
        """Forecast num_frames frames after context (or continuing `state`) →
        (B, num_frames, H, W)."""
        if state is not None:
            context = state.context
        check_sampling_args(context, num_frames, self.config.num_context)
        denoiser = Denoiser(self.network, self.schedule, self.config.num_context)
        with torch.no_grad():
            frames, self.state = self.generate(denoiser, context, num_frames, generator,
                                               progress, state)
        self.stats = SampleStats(denoiser.num_calls, num_frames)
        return frames

    @abc.abstractmethod
    def generate(self, denoiser: Denoiser, context: Tensor, num_frames: int,
                 generator: torch.Generator | None, progress: ProgressFn | None,
                 state: SamplerState | None) -> tuple[Tensor, SamplerState | None]:
        """The num_frames frames (B, num_frames, H, W) after context (or after `state`),
        and the state to continue from."""
