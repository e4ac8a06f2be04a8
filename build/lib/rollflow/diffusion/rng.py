"""Random draws that come only from an explicit torch.Generator.

Numbers are drawn on the generator's device and then moved to the target device, so a
CPU generator gives the same numbers whatever device the model runs on, and a CUDA
generator avoids the transfer. Without a generator torch's global RNG is used (on the
target device); pass one whenever results must be reproducible.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["standard_normal", "uniform"]


def _source_device(generator: torch.Generator | None, device: torch.device) -> torch.device:
    return device if generator is None else generator.device


def standard_normal(shape: tuple[int, ...], *, device: torch.device, dtype: torch.dtype,
                    generator: torch.Generator | None = None) -> Tensor:
    """N(0, I) of the given shape on `device` in `dtype`."""
    src = _source_device(generator, torch.device(device))
    draw = torch.randn(shape, generator=generator, device=src, dtype=dtype)
    return draw.to(device)


def uniform(shape: tuple[int, ...], *, device: torch.device, dtype: torch.dtype,
            generator: torch.Generator | None = None) -> Tensor:
    """U[0, 1) of the given shape on `device` in `dtype`."""
    src = _source_device(generator, torch.device(device))
    draw = torch.rand(shape, generator=generator, device=src, dtype=dtype)
    return draw.to(device)
