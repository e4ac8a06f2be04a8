"""Rollout CRPS: the fair CRPS itself, the objective on an exact model, and gradients through
the whole rollout."""

import math

import pytest
import torch

from rollflow.diffusion import DiffusionConfig, Shard, make_objective
from rollflow.diffusion.rollout_crps import RolloutCRPSObjective, fair_crps
from rollflow.errors import ConfigError

from .oracle import TrajectoryOracle

CONFIG = DiffusionConfig(window_size=3, num_context=2, steps_per_shift=1, distilled_from=2,
                         train_rollout_frames=4, train_rollout_members=2)


def _trajectory(batch, frames, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, frames, 4, 4, generator=gen, dtype=torch.float64)


class _Linear(torch.nn.Module):
    """out = a·x + b·roll(x): a two-parameter network, enough to check the chain rule."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(0.3, dtype=torch.float64))
        self.b = torch.nn.Parameter(torch.tensor(-0.2, dtype=torch.float64))

    def forward(self, x, log_snr, is_context):
        return self.a * x + self.b * torch.roll(x, 1, dims=-1)


def test_fair_crps_of_two_members_written_out():
    """M = 2: (|x₁ − y| + |x₂ − y|)/2 − |x₁ − x₂|/2, exactly (float64, a few operations)."""
    x = torch.tensor([[0.0, 1.0, -2.0], [3.0, 1.0, 0.5]], dtype=torch.float64)
    y = torch.tensor([1.0, 1.0, 4.0], dtype=torch.float64)
    expected = ((x[0] - y).abs() + (x[1] - y).abs()) / 2 - (x[0] - x[1]).abs() / 2
    torch.testing.assert_close(fair_crps(x, y), expected, rtol=0, atol=1e-15)
    assert float(fair_crps(torch.stack([y, y, y]), y).abs().max()) == 0.0
    with pytest.raises(ValueError, match="2 members"):
        fair_crps(x[:1], y)


def test_fair_crps_is_unbiased_for_a_gaussian():
    """Members drawn from N(0, 1) and y = 0: E[CRPS_fair] is the CRPS of N(0, 1) at its mean,
    2φ(0) − 1/√π = (√2 − 1)/√π ≈ 0.2337, at any M (the plain ensemble CRPS is biased
    upwards by E|X − X'|/(2M)). Over 200 000 points the sample mean must lie within 5
    standard errors (estimated from the same points) of it."""
    gen = torch.Generator().manual_seed(0)
    exact = (math.sqrt(2) - 1) / math.sqrt(math.pi)
    for m in (2, 5):
        members = torch.randn(m, 200_000, generator=gen, dtype=torch.float64)
        scores = fair_crps(members, torch.zeros(200_000, dtype=torch.float64))
        error = scores.std() / math.sqrt(scores.numel())
        assert abs(float(scores.mean()) - exact) < 5 * float(error)


def test_an_exact_model_scores_zero_and_a_wrong_one_does_not():
    """The oracle emits the true frames, whatever its noise, so every member is the truth and
    the fair CRPS is round-off (float64: |x̂ − y| ≲ 1e-15·|y| per frame); a linear network
    that knows nothing of the trajectory (unit-variance frames) is far from 0."""
    n, r, m = CONFIG.num_context, CONFIG.train_rollout_frames, CONFIG.train_rollout_members
    frames = _trajectory(3, n + r + CONFIG.window_size)   # the window reaches W − 1 past R
    objective = make_objective(CONFIG)
    assert isinstance(objective, RolloutCRPSObjective)
    exact = TrajectoryOracle(frames.repeat(m, 1, 1, 1), n)
    loss, stats = objective.loss(exact, frames[:, :n + r],
                                 generator=torch.Generator().manual_seed(1))
    assert float(loss.detach()) < 1e-12 and stats["spread_last"] < 1e-12
    assert exact.calls == CONFIG.num_init_steps + (r - 1) * CONFIG.steps_per_shift
    bad, _ = objective.loss(_Linear(), frames[:, :n + r],
                            generator=torch.Generator().manual_seed(1))
    assert float(bad.detach()) > 0.1


def test_gradients_flow_through_the_whole_rollout():
    """d loss / d(a, b) by autograd equals central differences (float64, h = 1e-6): the
    difference error is O(h²·|f'''|) ≈ 1e-12 relative plus round-off 1e-16/h ≈ 1e-10, far
    below rtol 1e-6; a kink of |·| crossed within ±h would break it, with probability
    ≈ h per point. Every emitted frame depends on the parameters through every call."""
    n, r = CONFIG.num_context, CONFIG.train_rollout_frames
    frames = _trajectory(2, n + r)
    net = _Linear()
    objective = RolloutCRPSObjective(CONFIG)

    def loss_at():
        return objective.loss(net, frames, generator=torch.Generator().manual_seed(3))[0]

    loss = loss_at()
    loss.backward()
    grads = torch.stack([net.a.grad, net.b.grad])
    numeric = []
    for p in (net.a, net.b):
        with torch.no_grad():
            p += 1e-6
            up = float(loss_at().detach())
            p -= 2e-6
            down = float(loss_at().detach())
            p += 1e-6
        numeric.append((up - down) / 2e-6)
    torch.testing.assert_close(grads, torch.tensor(numeric, dtype=torch.float64),
                               rtol=1e-6, atol=0)
    assert float(grads.abs().min()) > 0


def test_a_split_batch_is_refused_in_one_line():
    frames = _trajectory(2, CONFIG.num_context + CONFIG.train_rollout_frames)
    with pytest.raises(ValueError, match="one process"):
        RolloutCRPSObjective(CONFIG).loss(_Linear(), frames, shard=Shard(0, 2, 4))


def test_config_checks_and_example_length():
    assert CONFIG.frames_per_example == CONFIG.num_context + CONFIG.train_rollout_frames
    assert DiffusionConfig().frames_per_example == 2 + 4
    for bad in (dict(train_rollout_frames=-1), dict(train_rollout_members=1),
                dict(train_rollout_frames=2, mode="standard"),
                dict(train_rollout_frames=2, train_own_context=0.5),
                dict(train_rollout_frames=2, train_context_noise=0.1)):
        with pytest.raises(ConfigError, match="train_rollout"):
            DiffusionConfig(**bad)
    with pytest.raises(ValueError, match="rolling"):
        RolloutCRPSObjective(DiffusionConfig())
