"""Slot targets: field vs increment, the exact rebase of noisy slots, and every sampler
reproducing the true trajectory through an oracle with the increment target."""

import pytest
import torch

from rollflow.diffusion import CosineSchedule, DiffusionConfig, make_sampler
from rollflow.diffusion.target import decode, encode, rebase
from rollflow.errors import ConfigError

from .oracle import TrajectoryOracle


def _frames(batch=2, count=7, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, count, 3, 3, generator=gen, dtype=torch.float64)


@pytest.mark.parametrize("target", ["field", "increment"])
def test_encode_decode_are_inverse(target):
    frames = _frames()
    context, window = frames[:, :2], frames[:, 2:]
    torch.testing.assert_close(decode(encode(window, context, target), context, target), window)


def test_increment_of_a_steady_state_is_zero():
    frame = _frames(count=1)
    steady = frame.expand(2, 6, 3, 3)
    assert encode(steady[:, 2:], steady[:, :2], "increment").abs().max() == 0
    assert torch.equal(encode(steady[:, 2:], steady[:, :2], "field"), steady[:, 2:])


def test_rebase_keeps_the_noise_and_moves_the_reference():
    """z = α y + σ ε at each slot's τ → rebase → α (y − y₀) + σ ε, exactly."""
    schedule = CosineSchedule()
    gen = torch.Generator().manual_seed(1)
    y = torch.randn(2, 3, 4, 4, generator=gen, dtype=torch.float64)
    eps = torch.randn(2, 3, 4, 4, generator=gen, dtype=torch.float64)
    y0 = torch.randn(2, 1, 4, 4, generator=gen, dtype=torch.float64)
    tau = torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)
    alpha, sigma = (c[None, :, None, None] for c in schedule.alpha_sigma(tau))
    z = alpha * y + sigma * eps
    torch.testing.assert_close(rebase(z, tau, y0, schedule, "increment"),
                               alpha * (y - y0) + sigma * eps)
    assert torch.equal(rebase(z, tau, y0, schedule, "field"), z)


def test_unknown_target_is_rejected():
    with pytest.raises(ConfigError, match="target"):
        DiffusionConfig(target="delta")
    with pytest.raises(ValueError, match="unknown target"):
        encode(_frames()[:, 2:], _frames()[:, :2], "delta")


@pytest.mark.parametrize("mode", ["rolling", "standard", "deterministic"])
def test_samplers_reproduce_the_trajectory_with_increments(mode):
    config = DiffusionConfig(mode=mode, num_context=2, window_size=3, steps_per_shift=2,
                             target="increment")
    traj = _frames(count=2 + 9 + 3)
    oracle = TrajectoryOracle(traj, 2, predict="x" if mode == "deterministic" else "v",
                              target="increment")
    sampler = make_sampler(config, oracle)
    out = sampler(traj[:, :2], 9, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, traj[:, 2:11], rtol=0, atol=1e-9)


def test_rolling_rebase_preserves_each_frames_noise():
    """With η = 0 the noise ε implied by a frame's z is fixed for its whole lifetime; a
    wrong (or missing) rebase on a shift would change it for every frame that moves."""
    config = DiffusionConfig(mode="rolling", num_context=2, window_size=3, steps_per_shift=2,
                             target="increment")
    traj = _frames(count=2 + 8 + 3)
    oracle = TrajectoryOracle(traj, 2, target="increment")
    make_sampler(config, oracle)(traj[:, :2], 8, generator=torch.Generator().manual_seed(0))
    moved = 0
    for (_, _), states in oracle.states.items():
        implied = [eps for _, eps in states]
        for other in implied[1:]:
            torch.testing.assert_close(other, implied[0], rtol=0, atol=1e-7)
        moved += len(implied) > 2
    assert moved > 0
