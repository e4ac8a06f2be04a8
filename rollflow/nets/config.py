"""`UNetConfig`: the hyper-parameters of the periodic U-Net denoiser.

Stdlib only (plus rollflow.errors). Built from TOML through `rollflow.configio.from_mapping`,
so unknown keys and wrong types are rejected before `__post_init__` checks the ranges.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from rollflow.errors import ConfigError

__all__ = ["UNetConfig"]


def _require(condition: bool, field: str, allowed: str, value: object) -> None:
    if not condition:
        raise ConfigError(f"UNetConfig.{field} must be {allowed} (got {value!r})")


@dataclasses.dataclass(frozen=True, kw_only=True)
class UNetConfig:
    """Periodic U-Net over a window of frames.

    Attributes:
        window_encoding: how the window's frames enter the network:
            "frames" — `PeriodicUNet`, every frame a separate 2D pass (F passes per call)
            that exchange information through temporal mixers; "channels" —
            `StackedUNet`, the frames stacked as the channels of one 2D pass (one pass per
            call; `temporal_mixing` is then unused).
        base_channels: feature channels at full resolution (≥ 1).
        channel_multipliers: one entry per resolution level; level i has
            base_channels · channel_multipliers[i] channels. There are
            len(channel_multipliers) − 1 downsamplings by 2, so the grid size must be
            divisible by 2 ** (len(channel_multipliers) − 1).
        blocks_per_level: residual blocks per level on the way down (one more on the way up).
        embedding_dim: width of the per-frame noise-level / context-flag embedding.
        temporal_mixing: how frames exchange information at every level:
            "attention" — self-attention over the frames at each pixel with a learned
            frame-position embedding; "conv3d" — a 3×3×3 conv over (frame, x, y), circular
            in x and y, zero-padded in frame.
        attention_heads: heads of the temporal (and bottleneck spatial) attention; must
            divide every level's channel count.
        mid_attention: add spatial self-attention at the coarsest level (translation
            equivariant: no positional encoding).
        norm_groups: GroupNorm groups; must divide every level's channel count.
        dropout: dropout probability inside residual blocks, in [0, 1).
        forcing_wavenumber: k_f ≥ 1 of the flow's sin(k_f y) forcing gives the network
            cos(k_f y) and sin(k_f y) on the node grid (y the last axis) as two constant
            input channels, so it knows where the forcing is: a periodic U-Net otherwise
            commutes with every y-shift by a multiple of its downsampling factor, and only
            those by N/k_f are symmetries of the flow. 0 (default): no such channels.
            Channel-stacked networks only.
    """

    window_encoding: Literal["frames", "channels"] = "frames"
    base_channels: int = 32
    channel_multipliers: tuple[int, ...] = (1, 2, 2)
    blocks_per_level: int = 1
    embedding_dim: int = 128
    temporal_mixing: Literal["attention", "conv3d"] = "attention"
    attention_heads: int = 4
    mid_attention: bool = True
    norm_groups: int = 8
    dropout: float = 0.0
    forcing_wavenumber: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel_multipliers", tuple(self.channel_multipliers))
        _require(self.window_encoding in ("frames", "channels"), "window_encoding",
                 "'frames' or 'channels'", self.window_encoding)
        _require(self.base_channels >= 1, "base_channels", "≥ 1", self.base_channels)
        _require(len(self.channel_multipliers) >= 1
                 and all(isinstance(m, int) and m >= 1 for m in self.channel_multipliers),
                 "channel_multipliers", "a non-empty list of integers ≥ 1",
                 self.channel_multipliers)
        _require(self.blocks_per_level >= 1, "blocks_per_level", "≥ 1", self.blocks_per_level)
        _require(self.embedding_dim >= 2 and self.embedding_dim % 2 == 0, "embedding_dim",
                 "an even integer ≥ 2", self.embedding_dim)
        _require(self.temporal_mixing in ("attention", "conv3d"), "temporal_mixing",
                 "'attention' or 'conv3d'", self.temporal_mixing)
        _require(self.attention_heads >= 1, "attention_heads", "≥ 1", self.attention_heads)
        _require(self.norm_groups >= 1, "norm_groups", "≥ 1", self.norm_groups)
        _require(0.0 <= self.dropout < 1.0, "dropout", "in [0, 1)", self.dropout)
        _require(isinstance(self.forcing_wavenumber, int)
                 and not isinstance(self.forcing_wavenumber, bool)
                 and self.forcing_wavenumber >= 0, "forcing_wavenumber", "an integer ≥ 0",
                 self.forcing_wavenumber)
        _require(self.forcing_wavenumber == 0 or self.window_encoding == "channels",
                 "forcing_wavenumber", "0 unless window_encoding = 'channels'",
                 self.forcing_wavenumber)
        for channels in self.level_channels:
            _require(channels % self.norm_groups == 0, "norm_groups",
                     f"a divisor of every level's channels {self.level_channels}",
                     self.norm_groups)
            _require(channels % self.attention_heads == 0, "attention_heads",
                     f"a divisor of every level's channels {self.level_channels}",
                     self.attention_heads)

    @property
    def level_channels(self) -> tuple[int, ...]:
        """Channels per resolution level, finest first."""
        return tuple(self.base_channels * m for m in self.channel_multipliers)

    @property
    def num_downsamplings(self) -> int:
        """Number of factor-2 downsamplings; grids must be divisible by 2 ** this."""
        return len(self.channel_multipliers) - 1

    def check_grid(self, size: int) -> None:
        """Raise ConfigError unless a size×size grid can pass through every level."""
        factor = 2 ** self.num_downsamplings
        if size < factor or size % factor:
            raise ConfigError(f"grid size {size} is not divisible by 2**{self.num_downsamplings}"
                              f" = {factor} (len(channel_multipliers) − 1 downsamplings)")
