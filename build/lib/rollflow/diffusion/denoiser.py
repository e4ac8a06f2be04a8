"""The network seam and the v-parameterisation shared by the objectives and the samplers.

A network sees F = n_ctx + W frames: the clean context first (log_snr = λ_max,
is_context True), then the window (each frame with its own log_snr). For diffusion modes
its output at the window slots is the v-prediction; for the deterministic mode it is the
clean frame itself. Its output at the context slots is ignored.

v-parameterisation, per frame with (α, σ) from the frame's own λ (α² + σ² = 1):

    z = α x + σ ε,   v = α ε − σ x,   x̂ = α z − σ v̂,   ε̂ = σ z + α v̂.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

from rollflow.diffusion.schedule import CosineSchedule

__all__ = ["Network", "network_inputs", "call_network", "v_target", "predict_from_v",
           "Denoiser"]


class Network(Protocol):
    """network(x (B, F, H, W), log_snr (B, F), is_context bool (B, F)) -> (B, F, H, W)."""

    def __call__(self, x: Tensor, log_snr: Tensor, is_context: Tensor) -> Tensor: ...


def network_inputs(context: Tensor, window: Tensor, window_log_snr: Tensor, *,
                   logsnr_max: float) -> tuple[Tensor, Tensor, Tensor]:
    """Assemble the network's three inputs.

    Args:
        context: clean context frames (B, C, H, W).
        window: window frames (B, W, H, W) (noisy, or zeros for the deterministic mode).
        window_log_snr: λ per window frame (B, W).
        logsnr_max: λ given to every context frame.

    Returns:
        x (B, C+W, H, W), log_snr (B, C+W) in the dtype of x, is_context bool (B, C+W).
    """
    batch, num_context = context.shape[:2]
    ctx_log_snr = torch.full((batch, num_context), logsnr_max, dtype=window.dtype,
                             device=window.device)
    log_snr = torch.cat([ctx_log_snr, window_log_snr.to(window.dtype)], dim=1)
    is_context = torch.zeros(log_snr.shape, dtype=torch.bool, device=window.device)
    is_context[:, :num_context] = True
    return torch.cat([context, window], dim=1), log_snr, is_context


def call_network(network: Network, context: Tensor, window: Tensor, window_log_snr: Tensor, *,
                 logsnr_max: float) -> Tensor:
    """The one place a network call is prepared, for training objectives and samplers alike:
    assemble the inputs (`network_inputs`: clean context at λ_max, each window slot at its
    own λ), call the network, check its shape, and return its output at the window slots.

    Args:
        context: clean frames (B, C, H, W); window: (B, W, H, W) (noisy slots, or zeros for
            the deterministic mode); window_log_snr: λ per slot (B, W).

    Returns:
        (B, W, H, W): v̂ for the diffusion modes, the frames for the deterministic one.
    """
    x, log_snr, is_context = network_inputs(context, window, window_log_snr,
                                            logsnr_max=logsnr_max)
    out = network(x, log_snr, is_context)
    if out.shape != x.shape:
        raise ValueError(f"network returned shape {tuple(out.shape)}, expected {tuple(x.shape)}")
    return out[:, context.shape[1]:]


def v_target(x: Tensor, eps: Tensor, alpha: Tensor, sigma: Tensor) -> Tensor:
    """v = α ε − σ x; x, eps (B, W, H, W); alpha, sigma (B, W) or broadcastable to x."""
    alpha, sigma = _expand(alpha, x), _expand(sigma, x)
    return alpha * eps - sigma * x


def predict_from_v(z: Tensor, v: Tensor, alpha: Tensor, sigma: Tensor) -> tuple[Tensor, Tensor]:
    """(x̂, ε̂) = (α z − σ v, σ z + α v); z, v (B, W, H, W); alpha, sigma (B, W)."""
    alpha, sigma = _expand(alpha, z), _expand(sigma, z)
    return alpha * z - sigma * v, sigma * z + alpha * v


def _expand(coef: Tensor, like: Tensor) -> Tensor:
    """Append singleton dims so per-frame coefficients broadcast over (H, W)."""
    return coef.reshape(coef.shape + (1,) * (like.ndim - coef.ndim))


class Denoiser:
    """A v-predicting network seen as a denoiser of the window; counts network calls.

    Args:
        network: the backbone (see `Network`).
        schedule: the noise schedule (gives λ per slot from τ).
        num_context: C, clean frames in front of the window.
    """

    def __init__(self, network: Network, schedule: CosineSchedule, num_context: int) -> None:
        self.network = network
        self.schedule = schedule
        self.num_context = num_context
        self.num_calls = 0

    def __call__(self, context: Tensor, z: Tensor, tau: Tensor) -> tuple[Tensor, Tensor]:
        """(x̂, ε̂) for the window z (B, W, H, W) at local times tau (B, W) or (W,)."""
        tau = torch.broadcast_to(tau, z.shape[:2])
        log_snr = self.schedule.log_snr(tau)
        alpha, sigma = self.schedule.alpha_sigma_from_log_snr(log_snr)
        v_hat = self.raw(context, z, log_snr)
        return predict_from_v(z, v_hat, alpha, sigma)

    def raw(self, context: Tensor, window: Tensor, window_log_snr: Tensor) -> Tensor:
        """The network's output at the window slots, (B, W, H, W) (`call_network`)."""
        self.num_calls += 1
        return call_network(self.network, context, window, window_log_snr,
                            logsnr_max=self.schedule.logsnr_max)
