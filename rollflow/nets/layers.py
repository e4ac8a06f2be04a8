"""Building blocks of the periodic U-Net; every spatial operation is periodic in x and y.

Shapes: B = batch, F = frames in the window, C = channels, H × W = grid (x first, y second).
2D blocks see frames folded into the batch, (B·F, C, H, W); temporal blocks unfold them.
Every block commutes with `torch.roll` along x and y (by multiples of the block's stride),
which is the symmetry of the periodic domain.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "check_window_inputs", "checked_num_frames", "circular_conv", "NoiseEmbedding", "ResBlock",
    "Downsample", "Upsample", "TemporalAttention", "TemporalConv3d", "SpatialAttention",
]


def check_window_inputs(x: torch.Tensor, log_snr: torch.Tensor, is_context: torch.Tensor,
                        num_frames: int) -> None:
    """ValueError unless x is (B, F, H, W) and log_snr, is_context are (B, F), F = num_frames."""
    b, f = x.shape[:2]
    if (x.ndim != 4 or f != num_frames or log_snr.shape != (b, f)
            or is_context.shape != (b, f)):
        raise ValueError(f"expected x (B, {num_frames}, H, W) with log_snr and is_context "
                         f"(B, {num_frames}); got {tuple(x.shape)}, {tuple(log_snr.shape)}, "
                         f"{tuple(is_context.shape)}")


def circular_conv(in_channels: int, out_channels: int, kernel_size: int = 3,
                  stride: int = 1) -> nn.Conv2d:
    """A 2D conv with circular padding that keeps the grid (stride 1) or halves it."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                     padding=kernel_size // 2, padding_mode="circular")


class NoiseEmbedding(nn.Module):
    """Per-frame embedding of the log-SNR λ and of the clean-context flag.

    λ (any real, typically [−15, 15]) → sin/cos features at geometrically spaced frequencies
    (periods from ≈ 1.3 to ≈ 125 in λ units) → 2-layer MLP; a learned vector for
    "clean context" vs "noisy" is added. Input (B, F) each; output (B, F, dim).
    """

    def __init__(self, dim: int):
        super().__init__()
        half = dim // 2
        frequencies = torch.exp(torch.linspace(math.log(0.05), math.log(5.0), half))
        self.register_buffer("frequencies", frequencies, persistent=False)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.flag = nn.Embedding(2, dim)

    def forward(self, log_snr: torch.Tensor, is_context: torch.Tensor) -> torch.Tensor:
        phases = log_snr.to(self.frequencies.dtype)[..., None] * self.frequencies
        features = torch.cat([torch.sin(phases), torch.cos(phases)], dim=-1)
        return self.mlp(features) + self.flag(is_context.long())


class ResBlock(nn.Module):
    """GroupNorm–SiLU–conv twice, the second norm modulated per frame (adaptive GroupNorm).

    x (N, C_in, H, W), emb (N, E) → (N, C_out, H, W); scale/shift = Linear(SiLU(emb)).
    """

    def __init__(self, in_channels: int, out_channels: int, embedding_dim: int, groups: int,
                 dropout: float):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels)
        self.conv1 = circular_conv(in_channels, out_channels)
        self.modulation = nn.Linear(embedding_dim, 2 * out_channels)
        self.norm2 = nn.GroupNorm(groups, out_channels, affine=False)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = circular_conv(out_channels, out_channels)
        self.skip = (nn.Identity() if in_channels == out_channels
                     else nn.Conv2d(in_channels, out_channels, 1))

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.modulation(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.dropout(F.silu(h)))
        return self.skip(x) + h


class Downsample(nn.Module):
    """Stride-2 circular conv: (N, C, H, W) → (N, C, H/2, W/2); a roll by 2 becomes a roll by 1."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = circular_conv(channels, channels, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    """Nearest-neighbour ×2 then a circular conv: (N, C, H, W) → (N, C, 2H, 2W)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = circular_conv(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class TemporalAttention(nn.Module):
    """Self-attention across the F frames at each pixel, with a learned frame position.

    x (B·F, C, H, W) → same shape (residual). Each pixel is an independent sequence of F
    tokens, so the block is exactly equivariant to periodic shifts in x and y.
    """

    def __init__(self, channels: int, heads: int, num_frames: int, groups: int):
        super().__init__()
        self.num_frames = num_frames
        self.norm = nn.GroupNorm(groups, channels)
        self.position = nn.Parameter(torch.randn(num_frames, channels) * 0.02)
        self.attention = nn.MultiheadAttention(channels, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        b = n // self.num_frames
        tokens = self.norm(x).reshape(b, self.num_frames, c, h * w).permute(0, 3, 1, 2)
        tokens = tokens.reshape(b * h * w, self.num_frames, c) + self.position
        mixed, _ = self.attention(tokens, tokens, tokens, need_weights=False)
        mixed = mixed.reshape(b, h * w, self.num_frames, c).permute(0, 2, 3, 1)
        return x + mixed.reshape(n, c, h, w)


class TemporalConv3d(nn.Module):
    """3×3×3 conv over (frame, x, y): circular in x, y; zero-padded in frame. Residual.

    x (B·F, C, H, W) → same shape.
    """

    def __init__(self, channels: int, num_frames: int, groups: int):
        super().__init__()
        self.num_frames = num_frames
        self.norm = nn.GroupNorm(groups, channels)
        self.conv = nn.Conv3d(channels, channels, 3, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        b = n // self.num_frames
        v = F.silu(self.norm(x)).reshape(b, self.num_frames, c, h, w).transpose(1, 2)
        v = F.pad(v, (1, 1, 1, 1, 0, 0), mode="circular")  # x, y periodic
        v = F.pad(v, (0, 0, 0, 0, 1, 1))                    # frames: zeros
        v = self.conv(v).transpose(1, 2).reshape(n, c, h, w)
        return x + v


class SpatialAttention(nn.Module):
    """Self-attention over all pixels of one frame (no positional code → shift equivariant).

    x (N, C, H, W) → same shape (residual); meant for the coarsest level only.
    """

    def __init__(self, channels: int, heads: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.attention = nn.MultiheadAttention(channels, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        tokens = self.norm(x).reshape(n, c, h * w).transpose(1, 2)
        mixed, _ = self.attention(tokens, tokens, tokens, need_weights=False)
        return x + mixed.transpose(1, 2).reshape(n, c, h, w)


def checked_num_frames(num_frames: int) -> int:
    """`num_frames` (frames a backbone sees per window: context + window), refused below 1."""
    if num_frames < 1:
        raise ValueError(f"num_frames must be ≥ 1 (got {num_frames})")
    return num_frames
