"""Every sampler on dummy networks: shape, finiteness, determinism, ensembles, bad input."""

from types import SimpleNamespace

import pytest
import torch

from rollflow.diffusion import (
    MODES, DiffusionConfig, expand_members, make_sampler, split_members,
)
from rollflow.errors import DataError

CONFIG = DiffusionConfig(num_context=2, window_size=3, steps_per_shift=2)


def zero_net(x, log_snr, is_context):
    return torch.zeros_like(x)


class TinyConvNet(torch.nn.Module):
    """Conv over frames-as-channels plus a logSNR-dependent scale; has parameters."""

    def __init__(self, num_frames, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = torch.nn.Conv2d(num_frames, num_frames, 3, padding=1,
                                    padding_mode="circular")
        with torch.no_grad():
            self.conv.weight.mul_(0.3)

    def forward(self, x, log_snr, is_context):
        scale = torch.sigmoid(log_snr)[..., None, None] * (~is_context)[..., None, None]
        return self.conv(x) * (1 + scale)


def configs(eta=0.0):
    return [CONFIG.replace(mode=mode, eta=eta) for mode in MODES]


def net_for(config, kind):
    return zero_net if kind == "zero" else TinyConvNet(config.num_context + config.window_size)


@pytest.mark.parametrize("kind", ["zero", "conv"])
@pytest.mark.parametrize("config", configs(eta=0.5), ids=MODES)
def test_shape_finiteness_and_dtype(config, kind):
    for dtype in (torch.float32, torch.float64):
        net = net_for(config, kind)
        sampler = make_sampler(config, net if kind == "zero" else net.to(dtype))
        context = torch.randn(2, config.num_context, 6, 6, dtype=dtype)
        out = sampler(context, 5, generator=torch.Generator().manual_seed(0))
        assert out.shape == (2, 5, 6, 6) and out.dtype == dtype
        assert torch.isfinite(out).all() and not out.requires_grad


@pytest.mark.parametrize("eta", [0.0, 1.0])
@pytest.mark.parametrize("mode", ["rolling", "standard"])
def test_same_seed_same_output_other_seed_differs(mode, eta):
    config = CONFIG.replace(mode=mode, eta=eta)
    sampler = make_sampler(config, net_for(config, "conv"))
    context = torch.randn(2, 2, 6, 6)
    a = sampler(context, 4, generator=torch.Generator().manual_seed(3))
    b = sampler(context, 4, generator=torch.Generator().manual_seed(3))
    c = sampler(context, 4, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.allclose(a, c)


@pytest.mark.parametrize("mode", ["rolling", "standard"])
def test_ensemble_members_differ(mode):
    config = CONFIG.replace(mode=mode)
    sampler = make_sampler(config, net_for(config, "conv"))
    context = expand_members(torch.randn(2, 2, 6, 6), 3)
    members = split_members(sampler(context, 4, generator=torch.Generator().manual_seed(0)), 3)
    assert members.shape == (2, 3, 4, 6, 6)
    for m in range(1, 3):
        assert (members[:, 0] - members[:, m]).abs().amax(dim=(1, 2, 3)).min() > 1e-3


def test_deterministic_rollout_is_noise_free_and_autoregressive():
    config = CONFIG.replace(mode="deterministic")

    def plus_one(x, log_snr, is_context):             # window slot w ← last context + (w + 1)
        out = torch.zeros_like(x)
        steps = torch.arange(1, config.window_size + 1, dtype=x.dtype)[:, None, None]
        out[:, config.num_context:] = x[:, config.num_context - 1:config.num_context] + steps
        return out

    sampler = make_sampler(config, plus_one)
    out = sampler(torch.zeros(1, 2, 2, 2), 7)
    assert torch.equal(out[0, :, 0, 0], torch.arange(1.0, 8.0))
    assert sampler.stats.network_calls == 3


@pytest.mark.parametrize("config", configs(), ids=MODES)
def test_bad_input(config):
    sampler = make_sampler(config, zero_net)
    with pytest.raises(DataError, match="num_context = 2"):
        sampler(torch.zeros(1, 3, 4, 4), 2)
    with pytest.raises(DataError, match="num_context = 2"):
        sampler(torch.zeros(2, 4, 4), 2)
    with pytest.raises(ValueError, match="num_frames must be an integer ≥ 1"):
        sampler(torch.zeros(1, 2, 4, 4), 0)
    with pytest.raises(ValueError, match="network returned shape"):
        make_sampler(config, lambda x, s, c: x[:, 1:])(torch.zeros(1, 2, 4, 4), 1)


def test_unknown_mode():
    with pytest.raises(ValueError, match="unknown mode 'ddpm'"):
        make_sampler(SimpleNamespace(mode="ddpm"), zero_net)


@pytest.mark.parametrize("mode,target", [("rolling", "field"), ("rolling", "increment"),
                                         ("standard", "field"), ("deterministic", "field")])
def test_a_run_continued_from_its_state_equals_one_run(mode, target):
    """Issue 16 (long rollouts written chunk by chunk): 4 + 4 + 4 frames, each call given
    the previous call's `state` and the same generator, equal one 12-frame call bit for
    bit (the same operations in the same order), with η = 1 so the generator matters."""
    from rollflow.diffusion import DiffusionConfig, make_sampler

    config = DiffusionConfig(mode=mode, window_size=2, steps_per_shift=2, num_context=2,
                             eta=1.0, target=target, standard_steps=3)
    weight = torch.linspace(0.05, 0.2, 16).reshape(1, 1, 4, 4)
    net = lambda x, log_snr, is_context: torch.tanh(x * weight + 0.01 * log_snr[..., None, None])  # noqa: E731
    context = torch.randn(2, 2, 4, 4, generator=torch.Generator().manual_seed(3))
    whole = make_sampler(config, net)(context, 12, generator=torch.Generator().manual_seed(1))
    sampler, gen = make_sampler(config, net), torch.Generator().manual_seed(1)
    parts = [sampler(context, 4, generator=gen)]
    for _ in range(2):                  # a fresh sampler each time, as after a restart
        state, sampler = sampler.state, make_sampler(config, net)
        parts.append(sampler(context * 0, 4, generator=gen, state=state))
    assert torch.equal(torch.cat(parts, dim=1), whole)


def test_a_cut_block_leaves_no_state_to_continue():
    """A standard sampler that emitted part of its last block (5 of W = 2 → 3 blocks)
    cannot continue exactly: its state is None."""
    from rollflow.diffusion import DiffusionConfig, make_sampler

    sampler = make_sampler(DiffusionConfig(mode="standard", window_size=2, standard_steps=2),
                           lambda x, log_snr, is_context: torch.zeros_like(x))
    sampler(torch.zeros(1, 2, 4, 4), 5)
    assert sampler.state is None
    sampler(torch.zeros(1, 2, 4, 4), 4)
    assert sampler.state is not None and sampler.state.window is None
