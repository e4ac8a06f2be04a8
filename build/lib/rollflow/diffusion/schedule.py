"""The cosine logSNR noise schedule, elementwise in the diffusion time τ ∈ [0, 1].

Variance preserving: z_τ = α_τ x + σ_τ ε with α² + σ² = 1 and

    λ(τ) = log(α²/σ²) = clip(−2 log tan(πτ/2) + shift, λ_min, λ_max),
    α = sqrt(sigmoid(λ)),  σ = sqrt(sigmoid(−λ)).

Every function takes τ of any shape and returns the same shape. τ = 0 gives λ_max and
τ = 1 gives λ_min, so σ > 0 and α > 0 everywhere (with the default ±15: σ(0) ≈ 5.5e-4).
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor

from rollflow.errors import ConfigError

__all__ = ["CosineSchedule"]


@dataclasses.dataclass(frozen=True)
class CosineSchedule:
    """Cosine logSNR schedule λ(τ) with clipping and an additive shift.

    Attributes:
        logsnr_min: lower clip λ_min (reached at τ = 1).
        logsnr_max: upper clip λ_max (reached at τ = 0); must exceed logsnr_min.
        shift: additive shift of λ before clipping (> 0 means less noise at every τ).
    """

    logsnr_min: float = -15.0
    logsnr_max: float = 15.0
    shift: float = 0.0

    def __post_init__(self) -> None:
        values = (self.logsnr_min, self.logsnr_max, self.shift)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            raise ConfigError(f"CosineSchedule needs finite numbers (got {values})")
        if not self.logsnr_min < self.logsnr_max:
            raise ConfigError(f"CosineSchedule needs logsnr_min < logsnr_max "
                              f"(got {self.logsnr_min} ≥ {self.logsnr_max})")

    def log_snr(self, tau: Tensor) -> Tensor:
        """λ(τ), elementwise; τ of any shape (values outside [0, 1] are clamped first).

        Uses λ(τ) = −λ(1 − τ) (unshifted) so tan is only evaluated on [0, π/4], which
        keeps τ = 1 exact in float32 (tan(π/2) is not representable).
        """
        tau = _as_float(tau).clamp(0.0, 1.0)
        near = torch.minimum(tau, 1.0 - tau)
        half = -2.0 * torch.log(torch.tan(0.5 * math.pi * near))   # ≥ 0, +inf at near = 0
        lam = torch.where(tau <= 0.5, half, -half) + self.shift
        return lam.clamp(self.logsnr_min, self.logsnr_max)

    def alpha_sigma(self, tau: Tensor) -> tuple[Tensor, Tensor]:
        """(α(τ), σ(τ)), each the shape of τ, with α² + σ² = 1."""
        return self.alpha_sigma_from_log_snr(self.log_snr(tau))

    @staticmethod
    def alpha_sigma_from_log_snr(log_snr: Tensor) -> tuple[Tensor, Tensor]:
        """(α, σ) = (sqrt(sigmoid(λ)), sqrt(sigmoid(−λ))), elementwise."""
        return torch.sigmoid(log_snr).sqrt(), torch.sigmoid(-log_snr).sqrt()


def _as_float(tau: Tensor | float) -> Tensor:
    tau = torch.as_tensor(tau)
    if not tau.is_floating_point():
        tau = tau.to(torch.get_default_dtype())
    return tau
