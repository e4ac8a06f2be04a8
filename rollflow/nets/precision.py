"""Where bf16 autocast pays: the hardware check shared by training and forecasting.

bf16 keeps float32's exponent and 8 bits of mantissa (relative rounding 2⁻⁸ ≈ 0.4 % per
operation). Under `torch.autocast` convolutions and matmuls run in bf16 while weights,
optimiser state, normalisations and losses stay float32. A CPU computes bf16 natively only
with avx512_bf16 or AMX; elsewhere oneDNN emulates it and it is slower than float32, so
callers fall back to float32 there (and say so). On CUDA bf16 is always native.
"""

from __future__ import annotations

import contextlib
import functools

import torch

__all__ = ["native_bf16", "bf16_available", "autocast_bf16"]


@functools.cache
def native_bf16() -> bool:
    """True when this CPU computes bf16 natively (oneDNN's own check: avx512_bf16/AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def bf16_available(device: torch.device) -> bool:
    """Whether bf16 autocast on `device` is native (CUDA always; CPU: `native_bf16()`)."""
    return device.type == "cuda" or native_bf16()


def autocast_bf16(device: torch.device, enabled: bool):
    """A bf16 autocast context on `device` when `enabled`, else a no-op context."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)
