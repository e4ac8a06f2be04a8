"""`PeriodicUNet`: a denoiser for windows of 2D periodic fields with per-frame noise levels.

The network protocol shared with rollflow.diffusion (which this package never imports):

    network(x (B, F, H, W), log_snr (B, F), is_context bool (B, F)) -> (B, F, H, W)

with F = num_context + window_size. Frames are processed as a batch of 2D images; each
frame gets its own embedding of λ = log SNR and of its clean-context flag, which modulates
every residual block (adaptive GroupNorm). Frames exchange information at every level by
temporal attention or a 3D conv. All spatial operations are circular, so the network
commutes with periodic shifts by multiples of 2 ** num_downsamplings.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rollflow.nets.config import UNetConfig
from rollflow.nets.layers import (Downsample, NoiseEmbedding, ResBlock, SpatialAttention,
                                  TemporalAttention, TemporalConv3d, Upsample,
                                  check_window_inputs, checked_num_frames, circular_conv)
from rollflow.nets.stacked import StackedUNet

__all__ = ["PeriodicUNet", "build_network", "count_parameters"]


class PeriodicUNet(nn.Module):
    """U-Net over (B, F, H, W) windows; see the module docstring for the protocol.

    Args:
        config: architecture hyper-parameters.
        num_frames: F, the number of frames per window (context + noisy); fixed because the
            temporal attention learns one position embedding per frame.
    """

    def __init__(self, config: UNetConfig, num_frames: int):
        super().__init__()
        self.config, self.num_frames = config, checked_num_frames(num_frames)
        emb, groups = config.embedding_dim, config.norm_groups
        channels = config.level_channels
        self.embedding = NoiseEmbedding(emb)
        # One learned vector per frame slot, added to the noise embedding: a slot's lead
        # time is known even when every window slot gets the same λ and flag (the
        # deterministic mode), not only inside the temporal attention.
        self.frame_position = nn.Parameter(torch.randn(num_frames, emb) * 0.02)
        self.stem = circular_conv(1, channels[0])
        self.down_blocks, self.down_mixers, self.downsamplers = (nn.ModuleList(),
                                                                  nn.ModuleList(), nn.ModuleList())
        skip_channels, current = [channels[0]], channels[0]
        for level, width in enumerate(channels):
            for _ in range(config.blocks_per_level):
                self.down_blocks.append(ResBlock(current, width, emb, groups, config.dropout))
                current = width
                skip_channels.append(current)
            self.down_mixers.append(self._mixer(width))
            if level < config.num_downsamplings:
                self.downsamplers.append(Downsample(width))
                skip_channels.append(width)
        self.mid_block1 = ResBlock(current, current, emb, groups, config.dropout)
        self.mid_attention = (SpatialAttention(current, config.attention_heads, groups)
                              if config.mid_attention else nn.Identity())
        self.mid_mixer = self._mixer(current)
        self.mid_block2 = ResBlock(current, current, emb, groups, config.dropout)
        self.up_blocks, self.up_mixers, self.upsamplers = (nn.ModuleList(), nn.ModuleList(),
                                                            nn.ModuleList())
        for level in reversed(range(len(channels))):
            width = channels[level]
            for _ in range(config.blocks_per_level + 1):
                self.up_blocks.append(ResBlock(current + skip_channels.pop(), width, emb,
                                               groups, config.dropout))
                current = width
            self.up_mixers.append(self._mixer(width))
            if level > 0:
                self.upsamplers.append(Upsample(width))
        self.out_norm = nn.GroupNorm(groups, current)
        self.out_conv = circular_conv(current, 1)

    def _mixer(self, channels: int) -> nn.Module:
        if self.config.temporal_mixing == "attention":
            return TemporalAttention(channels, self.config.attention_heads, self.num_frames,
                                     self.config.norm_groups)
        return TemporalConv3d(channels, self.num_frames, self.config.norm_groups)

    def forward(self, x: torch.Tensor, log_snr: torch.Tensor,
                is_context: torch.Tensor) -> torch.Tensor:
        """x (B, F, H, W), log_snr (B, F), is_context bool (B, F) → (B, F, H, W)."""
        check_window_inputs(x, log_snr, is_context, self.num_frames)
        b, f, h, w = x.shape
        emb = (self.embedding(log_snr, is_context) + self.frame_position).reshape(b * f, -1)
        hidden = self.stem(x.reshape(b * f, 1, h, w))
        skips = [hidden]
        blocks = iter(self.down_blocks)
        for level, mixer in enumerate(self.down_mixers):
            for _ in range(self.config.blocks_per_level):
                hidden = next(blocks)(hidden, emb)
                skips.append(hidden)
            hidden = mixer(hidden)
            skips[-1] = hidden
            if level < self.config.num_downsamplings:
                hidden = self.downsamplers[level](hidden)
                skips.append(hidden)
        hidden = self.mid_block1(hidden, emb)
        hidden = self.mid_mixer(self.mid_attention(hidden))
        hidden = self.mid_block2(hidden, emb)
        blocks = iter(self.up_blocks)
        for index, mixer in enumerate(self.up_mixers):
            for _ in range(self.config.blocks_per_level + 1):
                hidden = next(blocks)(torch.cat([hidden, skips.pop()], dim=1), emb)
            hidden = mixer(hidden)
            if index < self.config.num_downsamplings:
                hidden = self.upsamplers[index](hidden)
        out = self.out_conv(F.silu(self.out_norm(hidden)))
        return out.reshape(b, f, h, w)


def build_network(config: UNetConfig, num_frames: int) -> nn.Module:
    """The denoiser for windows of `num_frames` frames (context + window): `PeriodicUNet`
    for `window_encoding = "frames"`, `StackedUNet` for "channels"."""
    if config.window_encoding == "channels":
        return StackedUNet(config, num_frames)
    return PeriodicUNet(config, num_frames)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
