"""Rollout CRPS: fine-tune a rolling sampler on its own multi-frame forecasts.

The denoising objectives train one network call at a time on true context frames. A
forecast instead chains calls, each on the frames the sampler emitted before, so its error
at lead R is not what those objectives score. This objective scores the sampler itself:

1. every example's n_ctx context frames are repeated for M members;
2. the rolling sampler (`RollingSampler.generate`: init phase, then one shift per frame,
   the model's own K and η) emits R frames per member, with gradients through every call
   (backpropagation through the whole rollout; the noise comes from the generator);
3. the loss is the fair (unbiased) CRPS of the M members against the true R frames, per
   pixel, averaged over pixels, frames and examples:

       CRPS_fair = (1/M) Σ_m |x_m − y| − 1/(2 M (M − 1)) Σ_{m ≠ m'} |x_m − x_m'|.

   Its expectation is the CRPS of the members' distribution (Ferro 2014), a proper score:
   it is lowest when the members are drawn from the truth's conditional law, so it rewards
   a sharp ensemble mean without rewarding collapse of the spread (the second term).

Cost of one example: M × (init_steps + (R − 1)·K) network calls, kept for the backward
pass. Units: the loss is in the normalised field's units (the training data's std).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rollflow.diffusion.config import DiffusionConfig
from rollflow.diffusion.denoiser import Denoiser, Network
from rollflow.diffusion.rolling import RollingSampler

__all__ = ["RolloutCRPSObjective", "fair_crps"]


def fair_crps(members: Tensor, truth: Tensor) -> Tensor:
    """Fair CRPS per pixel of an ensemble.

    Args:
        members: (M, ...) with M ≥ 2.
        truth: (...), the shape of one member.

    Returns:
        (...) the fair CRPS at every point, in the fields' units.
    """
    m = members.shape[0]
    if m < 2:
        raise ValueError(f"the fair CRPS needs at least 2 members (got {m})")
    if members.shape[1:] != truth.shape:
        raise ValueError(f"members {tuple(members.shape)} do not fit truth "
                         f"{tuple(truth.shape)}")
    skill = (members - truth).abs().mean(dim=0)
    pairs = (members[:, None] - members[None, :]).abs().sum(dim=(0, 1))
    return skill - pairs / (2 * m * (m - 1))


class RolloutCRPSObjective:
    """Fair CRPS of R-frame rollouts of the model's own rolling sampler
    (`config.train_rollout_frames` = R, `config.train_rollout_members` = M)."""

    def __init__(self, config: DiffusionConfig) -> None:
        if config.mode != "rolling" or config.train_rollout_frames < 1:
            raise ValueError("RolloutCRPSObjective needs a rolling config with "
                             "train_rollout_frames ≥ 1")
        self.config = config

    def loss(self, network: Network, frames: Tensor, *,
             generator: torch.Generator | None = None,
             shard=None) -> tuple[Tensor, dict[str, float]]:
        """Scalar loss (mean fair CRPS) and stats for `frames` (B, n_ctx + R, H, W).

        Stats: crps_first / crps_last (the first and last emitted frame's mean CRPS),
        rmse_mean_last (RMSE of the member mean at the last frame), spread_last (RMS of the
        members about their mean there). One process only: a `shard` must be the whole
        batch (the sampler draws its noise row by row, not for the whole batch)."""
        cfg = self.config
        rows = frames.shape[0]
        if shard is not None and (shard.start, shard.stop, shard.total) != (0, rows, rows):
            raise ValueError("the rollout CRPS trains in one process (got a shard "
                             f"{shard.start}:{shard.stop} of {shard.total} rows)")
        n, r, m = cfg.num_context, cfg.train_rollout_frames, cfg.train_rollout_members
        if frames.shape[1] != n + r:
            raise ValueError(f"frames must hold n_ctx + R = {n + r} frames (got "
                             f"{frames.shape[1]})")
        context, truth = frames[:, :n], frames[:, n:]
        sampler = RollingSampler(network, cfg)
        denoiser = Denoiser(network, cfg.schedule, n)
        out, _ = sampler.generate(denoiser, context.repeat(m, 1, 1, 1), r, generator,
                                  None, None)
        members = out.reshape(m, rows, r, *out.shape[2:])
        crps = fair_crps(members, truth).mean(dim=(-2, -1))            # (B, R)
        loss = crps.mean()
        with torch.no_grad():
            mean = members[:, :, -1].mean(dim=0)
            spread = (members[:, :, -1] - mean).pow(2).mean().sqrt()
            stats = {"crps_first": float(crps[:, 0].mean()),
                     "crps_last": float(crps[:, -1].mean()),
                     "rmse_mean_last": float((mean - truth[:, -1]).pow(2).mean().sqrt()),
                     "spread_last": float(spread)}
        return loss, stats
