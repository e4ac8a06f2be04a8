"""Standard-diffusion and deterministic samplers end to end against a trajectory oracle."""

import pytest
import torch

from rollflow.diffusion import CosineSchedule, DiffusionConfig, make_sampler

from .oracle import OffTrajectory, TrajectoryOracle
from .test_rolling import trajectory


def sample(config, oracle, traj, num_frames, seed=0):
    sampler = make_sampler(config, oracle)
    out = sampler(traj[:, :config.num_context], num_frames,
                  generator=torch.Generator().manual_seed(seed))
    return sampler, out


@pytest.mark.parametrize("eta", [0.0, 1.0])
@pytest.mark.parametrize("size, steps, ctx, num_frames", [
    (1, 3, 1, 4), (2, 4, 3, 5), (3, 5, 1, 9), (4, 2, 2, 7), (3, None, 5, 8),
])
def test_oracle_reproduces_trajectory(size, steps, ctx, num_frames, eta):
    config = DiffusionConfig(mode="standard", window_size=size, standard_steps=steps,
                             num_context=ctx, steps_per_shift=2, eta=eta)
    traj = trajectory(2, ctx + num_frames + size + 1)
    oracle = TrajectoryOracle(traj, ctx)
    sampler, out = sample(config, oracle, traj, num_frames)
    assert torch.allclose(out, traj[:, ctx:ctx + num_frames], rtol=0, atol=1e-9)
    blocks = -(-num_frames // size)
    assert sampler.stats.network_calls == oracle.calls == blocks * config.num_standard_steps
    n = config.num_standard_steps
    expected = CosineSchedule().log_snr(torch.arange(n, 0, -1, dtype=torch.float64) / n)
    for row in range(2):
        for frame in range(num_frames):
            seen = torch.tensor(oracle.log[row, ctx + frame], dtype=torch.float64)
            assert seen.shape == expected.shape and torch.allclose(seen, expected, atol=1e-12)
        first = [oracle.states[row, ctx + f][0][0] for f in range(num_frames)]
        assert all(not torch.equal(a, b) for i, a in enumerate(first) for b in first[i + 1:])


def reproduces(config, traj, num_frames, offset=0, predict="v"):
    """Whether the sampler with an oracle (shifted by `offset`) reproduces traj."""
    oracle = TrajectoryOracle(traj, config.num_context, offset=offset, predict=predict)
    try:
        _, out = sample(config, oracle, traj, num_frames)
    except OffTrajectory:
        return False
    ctx = config.num_context
    return torch.allclose(out, traj[:, ctx:ctx + num_frames], rtol=0, atol=1e-9)


@pytest.mark.parametrize("ctx", [1, 2, 3])
def test_off_by_one_oracle_fails(ctx):
    config = DiffusionConfig(mode="standard", window_size=2, standard_steps=3, num_context=ctx)
    traj = trajectory(1, 20)
    assert reproduces(config, traj, 6)
    assert not reproduces(config, traj, 6, offset=1)
    assert not reproduces(config, traj, 6, offset=-1)


@pytest.mark.parametrize("size, ctx, num_frames", [(1, 1, 3), (3, 2, 7), (2, 4, 6)])
def test_deterministic_rollout_with_clean_oracle(size, ctx, num_frames):
    config = DiffusionConfig(mode="deterministic", window_size=size, num_context=ctx)
    traj = trajectory(2, ctx + num_frames + size + 1)
    oracle = TrajectoryOracle(traj, ctx, predict="x")
    sampler, out = sample(config, oracle, traj, num_frames)
    assert torch.allclose(out, traj[:, ctx:ctx + num_frames], rtol=0, atol=0)
    assert sampler.stats.network_calls == -(-num_frames // size)
    for row in range(2):
        assert all(oracle.log[row, ctx + f] == [-15.0] for f in range(num_frames))


def test_deterministic_off_by_one_fails():
    config = DiffusionConfig(mode="deterministic", window_size=2, num_context=1)
    traj = trajectory(1, 12)
    assert reproduces(config, traj, 5, predict="x")
    assert not reproduces(config, traj, 5, offset=1, predict="x")


def test_block_progress_is_truncated():
    seen = []
    sampler = make_sampler(DiffusionConfig(mode="standard", window_size=3, standard_steps=2),
                           lambda x, log_snr, is_context: torch.zeros_like(x))
    out = sampler(torch.zeros(1, 2, 4, 4), 7, progress=seen.append)
    assert seen == [3, 6, 7] and out.shape == (1, 7, 4, 4)
