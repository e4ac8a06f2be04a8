"""Rolling diffusion's map from one global time t to a local time τ_w per window slot.

A window of W frames follows the clean context; slot w = 0 is the next frame.

    rolling:  τ_w(t) = (w + t) / W              (slot w moves from (w+1)/W to w/W)
    init:     τ_w(t) = clip(w/W + t, 0, 1)      (t = 1: all ones; t = 0: τ_w = w/W)

The init map at t = 0 equals the rolling map at t = 0, and the rolling map at t = 1,
read one slot down, equals the rolling map at t = 0: τ_w(1) = τ_{w+1}(0).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["LOCAL_TIME_MODES", "local_times", "check_window_size"]

LOCAL_TIME_MODES = ("rolling", "init")


def check_window_size(window_size: int) -> None:
    """Raise ValueError unless window_size is an integer ≥ 1."""
    if isinstance(window_size, bool) or not isinstance(window_size, int) or window_size < 1:
        raise ValueError(f"window_size must be an integer ≥ 1 (got {window_size!r})")


def local_times(t: Tensor, window_size: int, mode: str) -> Tensor:
    """Local times of all W slots at global time t.

    Args:
        t: global time(s) in [0, 1], any shape (a float is accepted too).
        window_size: W ≥ 1.
        mode: "rolling" or "init".

    Returns:
        τ of shape (*t.shape, W), dtype of t (default float dtype for non-float t).
    """
    check_window_size(window_size)
    if mode not in LOCAL_TIME_MODES:
        raise ValueError(f"unknown local-time mode {mode!r}; "
                         f"expected one of {', '.join(map(repr, LOCAL_TIME_MODES))}")
    t = torch.as_tensor(t)
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    slots = torch.arange(window_size, device=t.device, dtype=t.dtype)
    t = t.unsqueeze(-1)
    if mode == "rolling":
        return (slots + t) / window_size
    return (slots / window_size + t).clamp(0.0, 1.0)
