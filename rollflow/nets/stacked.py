"""`StackedUNet`: one 2D U-Net pass per window, the frames stacked as input channels.

The same network protocol as `PeriodicUNet` (see `rollflow.nets`):

    network(x (B, F, H, W), log_snr (B, F), is_context bool (B, F)) -> (B, F, H, W)

but the F = num_context + window_size frames enter as F channels of one image instead of
F images that exchange information through temporal mixers. A window therefore costs one
U-Net pass, not F (for the KF32 configs, F = 6). Per-frame conditioning is kept:

- each frame's λ = log SNR and clean-context flag get their own sin/cos features; the F
  feature vectors are concatenated (frame order matters, so slot w is told apart from
  slot w′ even at equal λ) and an MLP maps them to the embedding that modulates every
  residual block (adaptive GroupNorm);
- the λ of every frame also enters as a constant input channel beside the frame, scaled
  to O(1) by `LOGSNR_SCALE`, so the first convolution already knows how noisy each
  channel is;
- with `forcing_wavenumber` k_f > 0, cos(k_f y) and sin(k_f y) enter as two more constant
  channels (after the λ channels), so the network knows the forcing's phase;
- output channel f is frame f's prediction, with its own weights: each window slot is a
  separate output (its lead time is built in), which a deterministic baseline needs.

All spatial operations are circular, so the network commutes with periodic shifts by
multiples of 2 ** num_downsamplings, like `PeriodicUNet` (in y only by multiples of N/k_f
too when it sees the forcing).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from rollflow.nets.config import UNetConfig
from rollflow.nets.layers import (Downsample, ResBlock, SpatialAttention, Upsample,
                                  check_window_inputs, checked_num_frames, circular_conv)

__all__ = ["StackedUNet", "WindowEmbedding", "LOGSNR_SCALE", "prepend_frames",
           "forcing_channels", "add_forcing_channels"]

LOGSNR_SCALE = 0.1
"""λ input channels are λ · LOGSNR_SCALE (λ ∈ [−15, 15] → [−1.5, 1.5])."""


class WindowEmbedding(nn.Module):
    """Embedding of the whole window's noise levels: (B, F) λ and flags → (B, dim).

    Per frame: sin/cos of λ at geometrically spaced frequencies (periods ≈ 1.3–125 in λ)
    and the context flag (±1); the F per-frame vectors are concatenated in frame order and
    passed through a 2-layer MLP.
    """

    def __init__(self, num_frames: int, dim: int, features_per_frame: int = 32):
        super().__init__()
        half = features_per_frame // 2
        frequencies = torch.exp(torch.linspace(math.log(0.05), math.log(5.0), half))
        self.register_buffer("frequencies", frequencies, persistent=False)
        width = num_frames * (2 * half + 1)
        self.mlp = nn.Sequential(nn.Linear(width, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, log_snr: torch.Tensor, is_context: torch.Tensor) -> torch.Tensor:
        phases = log_snr.to(self.frequencies.dtype)[..., None] * self.frequencies  # (B, F, half)
        flag = is_context.to(phases.dtype)[..., None] * 2.0 - 1.0        # (B, F, 1)
        features = torch.cat([torch.sin(phases), torch.cos(phases), flag], dim=-1)
        return self.mlp(features.flatten(1))


class StackedUNet(nn.Module):
    """Channel-stacked periodic U-Net; see the module docstring for the protocol.

    Args:
        config: architecture hyper-parameters (`temporal_mixing` is not used: frames mix
            in every convolution).
        num_frames: F, frames per window (context + noisy); fixed by the first and last
            convolutions.
    """

    def __init__(self, config: UNetConfig, num_frames: int):
        super().__init__()
        self.config, self.num_frames = config, checked_num_frames(num_frames)
        emb, groups, drop = config.embedding_dim, config.norm_groups, config.dropout
        channels = config.level_channels
        self.embedding = WindowEmbedding(num_frames, emb)
        self.stem = circular_conv(2 * num_frames + (2 if config.forcing_wavenumber else 0),
                                  channels[0])
        self.down_blocks, self.downsamplers = nn.ModuleList(), nn.ModuleList()
        skip_channels, current = [channels[0]], channels[0]
        for level, width in enumerate(channels):
            for _ in range(config.blocks_per_level):
                self.down_blocks.append(ResBlock(current, width, emb, groups, drop))
                current = width
                skip_channels.append(current)
            if level < config.num_downsamplings:
                self.downsamplers.append(Downsample(width))
                skip_channels.append(width)
        self.mid_block1 = ResBlock(current, current, emb, groups, drop)
        self.mid_attention = (SpatialAttention(current, config.attention_heads, groups)
                              if config.mid_attention else nn.Identity())
        self.mid_block2 = ResBlock(current, current, emb, groups, drop)
        self.up_blocks, self.upsamplers = nn.ModuleList(), nn.ModuleList()
        for level in reversed(range(len(channels))):
            width = channels[level]
            for _ in range(config.blocks_per_level + 1):
                self.up_blocks.append(ResBlock(current + skip_channels.pop(), width, emb,
                                               groups, drop))
                current = width
            if level > 0:
                self.upsamplers.append(Upsample(width))
        self.out_norm = nn.GroupNorm(groups, current)
        self.out_conv = circular_conv(current, num_frames)

    def forward(self, x: torch.Tensor, log_snr: torch.Tensor,
                is_context: torch.Tensor) -> torch.Tensor:
        """x (B, F, H, W), log_snr (B, F), is_context bool (B, F) → (B, F, H, W)."""
        check_window_inputs(x, log_snr, is_context, self.num_frames)
        b, f, h, w = x.shape
        emb = self.embedding(log_snr, is_context)
        levels = (log_snr.to(x.dtype) * LOGSNR_SCALE)[:, :, None, None].expand(b, f, h, w)
        inputs = [x, levels]
        if self.config.forcing_wavenumber:
            inputs.append(forcing_channels(self.config.forcing_wavenumber, h, w, x).expand(
                b, 2, h, w))
        hidden = self.stem(torch.cat(inputs, dim=1))
        skips = [hidden]
        blocks = iter(self.down_blocks)
        for level in range(len(self.config.channel_multipliers)):
            for _ in range(self.config.blocks_per_level):
                hidden = next(blocks)(hidden, emb)
                skips.append(hidden)
            if level < self.config.num_downsamplings:
                hidden = self.downsamplers[level](hidden)
                skips.append(hidden)
        hidden = self.mid_block1(hidden, emb)
        hidden = self.mid_attention(hidden)
        hidden = self.mid_block2(hidden, emb)
        blocks = iter(self.up_blocks)
        for index in range(len(self.config.channel_multipliers)):
            for _ in range(self.config.blocks_per_level + 1):
                hidden = next(blocks)(torch.cat([hidden, skips.pop()], dim=1), emb)
            if index < self.config.num_downsamplings:
                hidden = self.upsamplers[index](hidden)
        return self.out_conv(F.silu(self.out_norm(hidden)))


def prepend_frames(weights: dict[str, torch.Tensor], num_frames: int,
                   extra: int) -> dict[str, torch.Tensor]:
    """The weights of a `StackedUNet` for `num_frames` + `extra` frames that computes what
    `weights` (one for `num_frames` frames) computes: the new frames are put in front (older
    context) with zero weights in the stem (their field and λ channels) and in the embedding
    MLP's first layer (their features), and zero output channels. Every other tensor is kept.

    So a model warm-started with more context frames starts as the model it came from and
    learns to use the older frames (`training.distill.load_initial`).
    """
    if extra < 1:
        raise ValueError(f"prepend_frames: extra must be ≥ 1 (got {extra})")
    out = dict(weights)
    stem = weights["stem.weight"]        # (C, 2F [+ 2], k, k): fields, λ [, forcing]
    if stem.shape[1] not in (2 * num_frames, 2 * num_frames + 2):
        raise ValueError(f"stem.weight has {stem.shape[1]} input channels, not 2 × "
                         f"{num_frames} frames (+ 2 forcing channels)")
    pad = stem.new_zeros(stem.shape[0], extra, *stem.shape[2:])
    out["stem.weight"] = torch.cat([pad, stem[:, :num_frames], pad, stem[:, num_frames:]], 1)
    first = weights["embedding.mlp.0.weight"]           # (dim, F · features per frame)
    per_frame = first.shape[1] // num_frames
    out["embedding.mlp.0.weight"] = torch.cat(
        [first.new_zeros(first.shape[0], extra * per_frame), first], 1)
    head, bias = weights["out_conv.weight"], weights["out_conv.bias"]   # (F, C, k, k), (F,)
    out["out_conv.weight"] = torch.cat([head.new_zeros(extra, *head.shape[1:]), head], 0)
    out["out_conv.bias"] = torch.cat([bias.new_zeros(extra), bias], 0)
    return out


def forcing_channels(wavenumber: int, size_x: int, size_y: int,
                     like: torch.Tensor) -> torch.Tensor:
    """(1, 2, size_x, size_y): cos(k y_j) and sin(k y_j) at the nodes y_j = 2π j / size_y
    (constant in x), in the dtype and on the device of `like`."""
    rows = _forcing_rows(wavenumber, size_y).to(like)                 # (2, size_y)
    return rows[None, :, None, :].expand(1, 2, size_x, size_y)


@functools.lru_cache(maxsize=8)
def _forcing_rows(wavenumber: int, size_y: int) -> torch.Tensor:
    """cos and sin of k y_j in float64 (2, size_y), computed once per grid (every call of a
    forced network needs them)."""
    phase = wavenumber * torch.arange(size_y, dtype=torch.float64) * (2.0 * math.pi / size_y)
    return torch.stack([torch.cos(phase), torch.sin(phase)])


def add_forcing_channels(weights: dict[str, torch.Tensor],
                         num_frames: int) -> dict[str, torch.Tensor]:
    """The weights of a `StackedUNet` that also sees the forcing channels and computes what
    `weights` (one without them) computes: the stem gets two zero input channels at the end.
    A warm start (`training.distill.load_initial`) so starts from exactly the model's
    function and learns to use where the forcing is."""
    stem = weights["stem.weight"]
    if stem.shape[1] != 2 * num_frames:
        raise ValueError(f"stem.weight has {stem.shape[1]} input channels, not 2 × "
                         f"{num_frames} frames without forcing channels")
    return {**weights, "stem.weight": torch.cat(
        [stem, stem.new_zeros(stem.shape[0], 2, *stem.shape[2:])], 1)}
