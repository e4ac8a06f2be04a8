"""`make_sampler`: the forecasting sampler for a config's mode.

    sampler = make_sampler(config, network)
    frames = sampler(context, num_frames, generator=gen)      # (B, num_frames, H, W)
    sampler.stats.calls_per_frame                               # network calls per frame

| mode          | sampler              | network calls per emitted frame         |
|---------------|----------------------|-----------------------------------------|
| rolling       | RollingSampler       | (init_steps + (n − 1)·K)/n → K          |
| standard      | StandardSampler      | N·ceil(n/W)/n → N/W                     |
| deterministic | DeterministicSampler | ceil(n/W)/n → 1/W                       |
"""

from __future__ import annotations

from rollflow.diffusion.config import DiffusionConfig
from rollflow.diffusion.denoiser import Network
from rollflow.diffusion.rolling import RollingSampler
from rollflow.diffusion.sampling import Sampler
from rollflow.diffusion.standard import DeterministicSampler, StandardSampler

__all__ = ["make_sampler", "SAMPLERS"]

SAMPLERS: dict[str, type] = {
    "rolling": RollingSampler,
    "standard": StandardSampler,
    "deterministic": DeterministicSampler,
}


def make_sampler(config: DiffusionConfig, network: Network) -> Sampler:
    """The sampler for `config.mode`, wrapping `network` (put it in eval mode first)."""
    try:
        cls = SAMPLERS[config.mode]
    except KeyError:
        raise ValueError(f"unknown mode {config.mode!r}; "
                         f"expected one of {', '.join(map(repr, SAMPLERS))}") from None
    return cls(network, config)
