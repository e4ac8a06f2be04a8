"""Cheaper network calls at inference: bf16 autocast, channels-last memory, inference mode.

`fast_network(network, options)` returns a callable with the network protocol
(x (B, F, H, W), log_snr (B, F), is_context (B, F)) → (B, F, H, W) float32 that

- runs under `torch.inference_mode()` (no autograd bookkeeping at all);
- with `channels_last`, keeps the weights and the input in NHWC memory order, which the
  oneDNN convolutions on x86 CPUs prefer;
- with `precision = "bfloat16"`, runs under bf16 autocast: convolutions and matmuls in
  bf16, normalisations and the output in float32. Only where the CPU has native bf16
  (avx512_bf16 or AMX: `native_bf16()`); elsewhere bf16 is emulated and slower, so the
  request falls back to float32 with a one-line warning. On CUDA bf16 is always native.

The weights are the same; the outputs differ from float32 by bf16 rounding (8 bits of
mantissa, relative 2⁻⁸ ≈ 0.4 % per operation), which `docs/performance.md` measures
against the effect on skill.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Literal

import torch

from rollflow.nets.precision import native_bf16

__all__ = ["InferenceOptions", "native_bf16", "fast_network", "FastNetwork"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class InferenceOptions:
    """How network calls run at forecast time (they change speed, not the model).

    Attributes:
        precision: "float32" or "bfloat16" (autocast; native bf16 hardware only).
        channels_last: NHWC memory order for weights and inputs.
    """

    precision: Literal["float32", "bfloat16"] = "float32"
    channels_last: bool = False

    def __post_init__(self) -> None:
        if self.precision not in ("float32", "bfloat16"):
            from rollflow.errors import ConfigError

            raise ConfigError(f"precision must be 'float32' or 'bfloat16' "
                              f"(got {self.precision!r})")


class FastNetwork:
    """The network behind `options` (see the module docstring); call counts unchanged."""

    def __init__(self, network: torch.nn.Module, options: InferenceOptions,
                 device: torch.device) -> None:
        self.network, self.options, self.device = network, options, device
        if options.channels_last:
            network.to(memory_format=torch.channels_last)

    def parameters(self):
        """The wrapped network's parameters (device and dtype lookups)."""
        return self.network.parameters()

    def _autocast(self):
        if self.options.precision != "bfloat16":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def __call__(self, x: torch.Tensor, log_snr: torch.Tensor,
                 is_context: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), self._autocast():
            if self.options.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            out = self.network(x, log_snr, is_context)
        return out.to(torch.float32).contiguous().clone()


def fast_network(network: torch.nn.Module, options: InferenceOptions, *,
                 warn: Callable[[str], None] | None = None) -> FastNetwork | torch.nn.Module:
    """The network wrapped for fast inference, or itself when nothing is asked for.

    bf16 on a CPU without native bf16 falls back to float32 and calls `warn` once."""
    device = next(network.parameters()).device
    if options.precision == "bfloat16" and device.type == "cpu" and not native_bf16():
        if warn is not None:
            warn("bf16 was asked for, but this CPU has no native bf16 (avx512_bf16/AMX); "
                 "using float32")
        options = dataclasses.replace(options, precision="float32")
    if options == InferenceOptions():
        return network
    return FastNetwork(network, options, device)
