"""What the window slots hold: the field itself, or its change since the last context frame.

Shapes: context (B, C, H, W), window (B, W, H, W), in the network's normalised units.

    field:      y_w = x_{n+1+w}
    increment:  y_w = x_{n+1+w} − x_n          (x_n = the last context frame)

The objectives noise and score y; the samplers generate y and `decode` it back to frames.
For the rolling sampler the reference frame moves when a frame is emitted: with slot 0
emitted as x_{n+1} = x_n + y_0, every remaining slot must be re-expressed against x_{n+1},
y′_{w−1} = y_w − y_0. On a noisy slot z_w = α_w y_w + σ_w ε this is exact and leaves the
noise untouched: z′_{w−1} = z_w − α_w y_0 (`rebase`).
"""

from __future__ import annotations

from torch import Tensor

from rollflow.diffusion.config import TARGETS
from rollflow.diffusion.schedule import CosineSchedule

__all__ = ["TARGETS", "encode", "decode", "rebase"]


def _check(target: str) -> None:
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of "
                         f"{', '.join(map(repr, TARGETS))}")


def encode(window: Tensor, context: Tensor, target: str) -> Tensor:
    """Frames (B, W, H, W) → slot values y in `target` space."""
    _check(target)
    return window - context[:, -1:] if target == "increment" else window


def decode(values: Tensor, context: Tensor, target: str) -> Tensor:
    """Slot values y (B, W, H, W) in `target` space → frames (inverse of `encode`)."""
    _check(target)
    return values + context[:, -1:] if target == "increment" else values


def rebase(z: Tensor, tau: Tensor, emitted: Tensor, schedule: CosineSchedule,
           target: str) -> Tensor:
    """Re-express noisy slots z (B, S, H, W) at local times tau (S,) or (B, S) against the
    newly emitted frame, whose slot value was `emitted` (B, 1, H, W): z − α(τ)·y_0 for
    "increment", z unchanged for "field"."""
    _check(target)
    if target == "field":
        return z
    alpha, _ = schedule.alpha_sigma(tau)
    alpha = alpha.to(z.dtype).broadcast_to(z.shape[:2])[..., None, None]
    return z - alpha * emitted
