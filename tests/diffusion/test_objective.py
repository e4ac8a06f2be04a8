"""Training objectives: local-time draws, noising statistics, clipped-frame weights, learning."""

import pytest
import torch

from rollflow.diffusion import (
    CosineSchedule, DeterministicObjective, DiffusionConfig, DiffusionObjective, add_noise,
    frame_weights, local_times, make_objective, sample_local_times,
)
from rollflow.errors import DataError


def zero_net(x, log_snr, is_context):
    return torch.zeros_like(x)


def frames(batch=8, config=None, seed=0, size=6):
    config = config or DiffusionConfig()
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, config.frames_per_example, size, size, generator=gen)


def test_beta_zero_draws_rolling_map_only():
    gen = torch.Generator().manual_seed(1)
    tau, use_init = sample_local_times(500, window_size=4, mode="rolling",
                                       init_probability=0.0, generator=gen)
    assert not use_init.any()
    t = tau[:, 0] * 4
    assert torch.allclose(tau, local_times(t, 4, "rolling"))
    assert (tau < 1).all() and (tau >= 0).all()


def test_beta_one_draws_init_map_only():
    gen = torch.Generator().manual_seed(1)
    tau, use_init = sample_local_times(500, window_size=4, mode="rolling",
                                       init_probability=1.0, generator=gen)
    assert use_init.all()
    assert torch.allclose(tau, local_times(tau[:, 0], 4, "init"))
    assert (tau == 1).any() and (tau[:, 0] < 1).all()


def test_beta_fraction_and_standard_shares_tau():
    gen = torch.Generator().manual_seed(2)
    _, use_init = sample_local_times(4000, window_size=3, mode="rolling",
                                     init_probability=0.25, generator=gen)
    assert abs(use_init.float().mean().item() - 0.25) < 5 * (0.25 * 0.75 / 4000) ** 0.5
    tau, use_init = sample_local_times(100, window_size=3, mode="standard", generator=gen)
    assert not use_init.any() and torch.equal(tau, tau[:, :1].expand(100, 3))


def test_loss_stats_report_the_map_used():
    for beta, fraction in ((0.0, 0.0), (1.0, 1.0)):
        objective = make_objective(DiffusionConfig(init_probability=beta))
        _, stats = objective.loss(zero_net, frames(), generator=torch.Generator().manual_seed(0))
        assert stats["fraction_init"] == fraction
    assert stats["fraction_weighted"] < 1.0                        # β = 1 clips some frames


def test_noised_frames_have_schedule_variance():
    schedule = CosineSchedule()
    tau = torch.tensor([[0.05, 0.3, 0.6, 0.95]], dtype=torch.float64).expand(4000, 4)
    alpha, sigma = schedule.alpha_sigma(tau[0])
    gen = torch.Generator().manual_seed(3)
    n = 4000 * 8 * 8
    x = torch.randn(4000, 4, 8, 8, generator=gen, dtype=torch.float64)
    z, _ = add_noise(x, tau, schedule, generator=gen)
    var = z.transpose(0, 1).reshape(4, -1).var(dim=1)
    assert torch.allclose(var, torch.ones(4, dtype=torch.float64), atol=5 * (2 / n) ** 0.5)
    c = 2.0
    z, _ = add_noise(torch.full_like(x, c), tau, schedule, generator=gen)
    flat = z.transpose(0, 1).reshape(4, -1)
    assert torch.allclose(flat.mean(dim=1), alpha * c, atol=5 * (sigma / n**0.5).max().item())
    assert torch.allclose(flat.var(dim=1), sigma**2, rtol=5 * (2 / n) ** 0.5)


def _garbage_at(mask_fn, value):
    """A network returning zeros, except `value` at window slots where mask_fn(log_snr)."""
    def network(x, log_snr, is_context):
        out = torch.zeros_like(x)
        out[mask_fn(log_snr) & ~is_context] = value
        return out
    return network


def test_clipped_frames_have_zero_weight():
    config = DiffusionConfig(init_probability=1.0, window_size=4)
    objective = DiffusionObjective(config)
    batch = frames(16, config)
    gen = torch.Generator().manual_seed(5)
    tau, _ = sample_local_times(16, window_size=4, mode="rolling", init_probability=1.0,
                                generator=torch.Generator().manual_seed(5))
    clipped = torch.cat([torch.zeros(16, config.num_context, dtype=torch.bool), tau == 1], 1)
    assert clipped.any() and torch.equal(frame_weights(tau), (tau < 1).float())
    base, _ = objective.loss(zero_net, batch, generator=torch.Generator().manual_seed(5))
    for value in (1e6, float("nan"), float("inf")):
        net = _garbage_at(lambda lam: clipped, value)
        loss, _ = objective.loss(net, batch, generator=torch.Generator().manual_seed(5))
        assert loss == base
    unclipped = _garbage_at(lambda lam: ~clipped, 1e3)   # the mask itself can fail
    assert objective.loss(unclipped, batch, generator=gen)[0] > 1e5


def test_loss_decreases_for_a_linear_network():
    torch.manual_seed(0)
    config = DiffusionConfig(window_size=2, num_context=1, init_probability=0.25)
    objective = make_objective(config)
    layer = torch.nn.Conv2d(3, 3, 1)
    net = lambda x, log_snr, is_context: layer(x)                         # noqa: E731
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.05)
    batch = frames(16, config)
    losses = []
    for _ in range(30):
        loss, _ = objective.loss(net, batch, generator=torch.Generator().manual_seed(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < 0.8 * losses[0]


def test_standard_mode_and_determinism():
    objective = make_objective(DiffusionConfig(mode="standard"))
    assert isinstance(objective, DiffusionObjective)
    a, stats = objective.loss(zero_net, frames(), generator=torch.Generator().manual_seed(9))
    b, _ = objective.loss(zero_net, frames(), generator=torch.Generator().manual_seed(9))
    assert torch.isfinite(a) and a == b and stats["fraction_weighted"] == 1.0


def test_deterministic_objective_sees_zeros_and_min_log_snr():
    config = DiffusionConfig(mode="deterministic", num_context=2, window_size=3)
    objective = make_objective(config)
    assert isinstance(objective, DeterministicObjective)
    seen = {}

    def network(x, log_snr, is_context):
        seen.update(x=x, log_snr=log_snr, is_context=is_context)
        return x + 1.0                          # window input is zeros → prediction is 1

    batch = frames(4, config)
    loss, stats = objective.loss(network, batch)
    assert (seen["x"][:, 2:] == 0).all() and (seen["log_snr"][:, 2:] == -15.0).all()
    assert (seen["log_snr"][:, :2] == 15.0).all() and not seen["is_context"][:, 2:].any()
    assert torch.equal(seen["x"][:, :2], batch[:, :2]) and seen["is_context"][:, :2].all()
    assert torch.allclose(loss, (1.0 - batch[:, 2:]).square().mean())
    assert stats["loss"] == pytest.approx(loss.item())


def test_wrong_frame_count_and_wrong_output_shape():
    objective = make_objective(DiffusionConfig(num_context=2, window_size=4))
    with pytest.raises(DataError, match=r"num_context \+ window_size = 6"):
        objective.loss(zero_net, torch.zeros(2, 5, 4, 4))
    with pytest.raises(ValueError, match="network returned shape"):
        objective.loss(lambda x, s, c: x[:, 1:], torch.zeros(2, 6, 4, 4))


def test_min_snr_weights_cap_the_x_weight():
    """min_snr: the v-MSE weight is min(SNR, γ)/(SNR + 1), so the implied x-MSE weight
    (× (SNR + 1)) equals min(SNR, γ): SNR below γ unchanged, above it capped at γ."""
    from rollflow.diffusion.objective import snr_weights

    lam = torch.linspace(-10.0, 10.0, 41)
    snr = torch.exp(lam)
    x_weight = snr_weights(lam, "min_snr", 5.0) * (snr + 1.0)
    torch.testing.assert_close(x_weight, torch.clamp(snr, max=5.0))
    assert torch.equal(snr_weights(lam, "v", 5.0), torch.ones_like(lam))
    with pytest.raises(ValueError, match="weighting"):
        snr_weights(lam, "edm", 5.0)


class _Conv(torch.nn.Module):
    """A tiny trainable network with the backbone's signature."""

    def __init__(self, channels):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(channels, channels, 3, padding=1, padding_mode="circular")

    def forward(self, x, log_snr, is_context):
        return self.conv(x) * (1 + 0.01 * log_snr[..., None, None])


@pytest.mark.parametrize("mode, context_noise, own_context", [
    (mode, noise, 0.0) for mode in ("rolling", "standard", "deterministic") for noise in (0.0, 0.1)
] + [("rolling", 0.0, 0.5), ("standard", 0.0, 0.5)])     # own context: diffusion modes only
def test_shards_of_a_batch_sum_to_its_loss_and_gradient(mode, context_noise, own_context):
    """Two processes each taking half a batch reproduce one process: the parts of the
    loss and of its gradient sum to the whole batch's (the noise of each row, the context
    noise and the own-context draws included, is the one it gets in the whole batch)."""
    from rollflow.diffusion import Shard

    config = DiffusionConfig(mode=mode, init_probability=0.3 if mode == "rolling" else 0.0,
                             train_context_noise=context_noise, train_own_context=own_context)
    objective = make_objective(config)
    x = frames(batch=6, config=config)
    net = _Conv(config.num_context + config.window_size)

    def loss_and_grad(rows, shard):
        net.zero_grad()
        loss, _ = objective.loss(net, x[rows], generator=torch.Generator().manual_seed(5),
                                 shard=shard)
        loss.backward()
        return loss.detach(), net.conv.weight.grad.clone()

    whole, whole_grad = loss_and_grad(slice(None), None)
    parts = [loss_and_grad(slice(a, b), Shard(a, b, 6)) for a, b in ((0, 2), (2, 6))]
    torch.testing.assert_close(parts[0][0] + parts[1][0], whole, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(parts[0][1] + parts[1][1], whole_grad, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="does not fit"):
        objective.loss(net, x[:2], shard=Shard(0, 3, 6))


def test_unsharded_loss_is_unchanged_by_the_shard_option():
    """Resumed runs continue bit-identically: shard=None and the whole-batch shard draw
    the same noise as the loss always did."""
    from rollflow.diffusion import Shard

    objective = make_objective(DiffusionConfig(init_probability=0.2))
    x = frames(batch=4)
    net = _Conv(x.shape[1])
    a, _ = objective.loss(net, x, generator=torch.Generator().manual_seed(3))
    b, _ = objective.loss(net, x, generator=torch.Generator().manual_seed(3),
                          shard=Shard(0, 4, 4))
    assert torch.equal(a, b)


def _seen_by_network(config, batch, seed=7):
    seen = {}

    def network(x, log_snr, is_context):
        seen["x"] = x.clone()
        return torch.zeros_like(x)

    loss, _ = make_objective(config).loss(network, batch,
                                          generator=torch.Generator().manual_seed(seed))
    return seen["x"], loss


@pytest.mark.parametrize("mode", ["rolling", "deterministic"])
def test_training_context_noise_reaches_the_context_only(mode):
    """train_context_noise s: the network's context inputs are the clean frames plus s·η
    with η ~ N(0, 1) i.i.d.; the window's inputs and the loss (a network that outputs zeros
    sees its target only through the clean window) are those of a clean run, because the
    context noise is drawn after every other draw. Bounds: N = 64·2·16² = 32 768 draws; the
    sample std's standard error is s/√(2N) ≈ 0.004 s and the mean's s/√N ≈ 0.0055 s; 6 of
    each is allowed."""
    s = 0.05
    clean = DiffusionConfig(mode=mode, num_context=2, window_size=4)
    noisy = clean.replace(train_context_noise=s)
    batch = frames(64, clean, size=16)
    x_clean, loss_clean = _seen_by_network(clean, batch)
    x_noisy, loss_noisy = _seen_by_network(noisy, batch)
    assert torch.equal(x_clean[:, :2], batch[:, :2])
    delta = (x_noisy[:, :2] - batch[:, :2]).double()
    n = delta.numel()
    assert abs(delta.std().item() / s - 1.0) < 6 / (2 * n) ** 0.5
    assert abs(delta.mean().item()) < 6 * s / n ** 0.5
    assert torch.equal(x_noisy[:, 2:], x_clean[:, 2:])
    assert torch.equal(loss_noisy, loss_clean)


def test_no_context_noise_draws_nothing():
    """At the default 0 the objective leaves the random stream where a clean run leaves it
    (resumed and older runs continue bit-identically)."""
    from rollflow.diffusion import Shard, seen_context

    gen = torch.Generator().manual_seed(4)
    before = gen.get_state()
    context = torch.randn(3, 2, 4, 4)
    assert seen_context(context, 0.0, Shard(0, 3, 3), gen) is context
    assert torch.equal(gen.get_state(), before)


def test_negative_context_noise_is_a_config_error():
    from rollflow.errors import ConfigError

    with pytest.raises(ConfigError, match="train_context_noise must be ≥ 0"):
        DiffusionConfig(train_context_noise=-0.1)
