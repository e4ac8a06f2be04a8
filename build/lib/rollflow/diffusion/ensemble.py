"""Ensembles as batch: each of B initial states repeated M times, member-major within a row.

Row b·M + m of the expanded batch is member m of sample b, so independent noise per batch
row (what every sampler draws) gives independent members.
"""

from __future__ import annotations

from torch import Tensor

__all__ = ["expand_members", "split_members"]


def _check_members(num_members: int) -> None:
    if isinstance(num_members, bool) or not isinstance(num_members, int) or num_members < 1:
        raise ValueError(f"num_members must be an integer ≥ 1 (got {num_members!r})")


def expand_members(context: Tensor, num_members: int) -> Tensor:
    """(B, ...) → (B·M, ...), each sample repeated M times consecutively."""
    _check_members(num_members)
    return context.repeat_interleave(num_members, dim=0)


def split_members(frames: Tensor, num_members: int) -> Tensor:
    """Inverse layout of `expand_members`: (B·M, ...) → (B, M, ...)."""
    _check_members(num_members)
    if frames.shape[0] % num_members:
        raise ValueError(f"batch size {frames.shape[0]} is not a multiple of "
                         f"num_members = {num_members}")
    return frames.reshape(frames.shape[0] // num_members, num_members, *frames.shape[1:])
