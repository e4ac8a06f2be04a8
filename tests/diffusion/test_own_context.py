"""Own-context training (`train_own_context`): the loss examples, their draws, shards, errors."""

import pytest
import torch

from rollflow.diffusion import DiffusionConfig, make_objective
from rollflow.diffusion.own_context import own_context_examples
from rollflow.diffusion.rng import standard_normal, uniform
from rollflow.errors import ConfigError, DataError


def _frames(config, batch=6, size=8, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, config.frames_per_example, size, size, generator=gen,
                       dtype=dtype)


def _oracle(truth, config):
    """A network that knows the true window slots y (B, W, H, W) and returns the exact v:
    with z = α y + σ ε, v = α ε − σ y = (α z − y)/σ, so x̂ = α z − σ v = y."""
    schedule = config.schedule

    def network(x, log_snr, is_context):
        n = config.num_context
        alpha, sigma = schedule.alpha_sigma_from_log_snr(log_snr[:, n:, None, None])
        out = torch.zeros_like(x)
        out[:, n:] = (alpha * x[:, n:] - truth) / sigma
        return out
    return network


@pytest.mark.parametrize("target", ["field", "increment"])
@pytest.mark.parametrize("mode", ["rolling", "standard"])
def test_a_perfect_network_gives_back_the_true_frames(mode, target):
    """With a network that denoises exactly, the own frame is f_n itself, so at p = 1 the
    loss examples are f_1 … f_{n+W}. Bound (float64): x̂ = α z − σ v with |σ v| ≤ |α z| + |y|
    and |y| ≲ 10 after the increment's subtraction: a few roundings of terms below
    ~50, i.e. ≤ 1e-12. The slot-0 log-SNR is clipped at λ_max = 15, so σ ≥ 5e-4 and the
    oracle's division is finite."""
    config = DiffusionConfig(mode=mode, target=target, train_own_context=1.0)
    x = _frames(config)
    n, w = config.num_context, config.window_size
    truth = x[:, n:n + w] - (x[:, n - 1:n] if target == "increment" else 0.0)
    out = own_context_examples(_oracle(truth, config), x, config, start=0, total=6,
                               generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(out, x[:, 1:], rtol=0.0, atol=1e-12)


def test_the_coin_replaces_only_the_last_context_frame():
    """p = 0.5: rows whose coin fell get α₀ z₀ = α₀ (α₀ f_n + σ₀ ε₀) (the x̂ of a network
    that outputs v = 0) as their last context frame; every other frame, and every frame of
    the other rows, is the true one bit for bit. With 64 rows both kinds occur
    (P(all one kind) = 2⁻⁶³). Bound (float64): α z is formed from the same α, σ, ε in both
    computations up to the order of two products, ≤ 1e-12 for |f|, |ε| ≲ 6."""
    config = DiffusionConfig(num_context=3, train_own_context=0.5)
    x = _frames(config, batch=64)
    out = own_context_examples(lambda x, s, c: torch.zeros_like(x), x, config, start=0,
                               total=64, generator=torch.Generator().manual_seed(2))
    n = config.num_context
    assert torch.equal(out[:, :n - 1], x[:, 1:n])
    assert torch.equal(out[:, n:], x[:, n + 1:])
    replaced = (out[:, n - 1] != x[:, n]).flatten(1).any(dim=1)
    assert 0 < replaced.sum() < 64
    assert torch.equal(out[~replaced, n - 1], x[~replaced, n])
    # the documented draws, in order: t_A, the noise of call A, the coin (whole batch)
    gen = torch.Generator().manual_seed(2)
    t = uniform((64,), device="cpu", dtype=x.dtype, generator=gen)
    eps = standard_normal((64, config.window_size, 8, 8), device="cpu", dtype=x.dtype,
                          generator=gen)
    coin = uniform((64,), device="cpu", dtype=x.dtype, generator=gen) < 0.5
    assert torch.equal(coin, replaced)
    alpha, sigma = config.schedule.alpha_sigma(t / config.window_size)
    a, s = alpha[:, None, None], sigma[:, None, None]
    expected = a * (a * x[:, n] + s * eps[:, 0])
    torch.testing.assert_close(out[replaced, n - 1], expected[replaced], rtol=0, atol=1e-12)


def test_the_own_frame_carries_no_gradient():
    """The loss's gradient reaches the network only through the loss call: a network
    whose output depends on a parameter gets the same gradient whether or not call A ran
    with that parameter (call A is under no_grad and its frame is detached)."""
    config = DiffusionConfig(train_own_context=1.0)
    x = _frames(config, dtype=torch.float32)
    weight = torch.nn.Parameter(torch.tensor(0.3))
    calls = []

    def network(inp, log_snr, is_context):
        calls.append(torch.is_grad_enabled())
        return weight * inp

    loss, _ = make_objective(config).loss(network, x, generator=torch.Generator().manual_seed(0))
    loss.backward()
    assert calls == [False, True]
    assert weight.grad is not None and torch.isfinite(weight.grad)


def test_examples_are_one_frame_longer_and_bad_settings_are_one_line_errors():
    config = DiffusionConfig(num_context=2, window_size=4, train_own_context=0.25)
    assert config.frames_per_example == 7
    assert DiffusionConfig(num_context=2, window_size=4).frames_per_example == 6
    with pytest.raises(DataError, match=r"num_context \+ window_size \+ 1 = 7"):
        make_objective(config).loss(lambda x, s, c: x, torch.zeros(2, 6, 4, 4))
    with pytest.raises(ConfigError, match=r"train_own_context must be in \[0, 1\]"):
        DiffusionConfig(train_own_context=1.5)
    with pytest.raises(ConfigError, match="0 for the deterministic mode"):
        DiffusionConfig(mode="deterministic", train_own_context=0.5)
    student = DiffusionConfig(steps_per_shift=2, distilled_from=4, train_own_context=0.5)
    assert student.frames_per_example == 7          # a student may train on its own frames


def test_a_student_trains_on_own_frames_only_when_asked():
    from rollflow.diffusion import student_config

    teacher = DiffusionConfig(train_own_context=0.5)
    assert student_config(teacher).train_own_context == 0.0
    assert student_config(teacher).frames_per_example == 6
    student = student_config(DiffusionConfig(), own_context=0.25)
    assert student.train_own_context == 0.25 and student.frames_per_example == 7
    with pytest.raises(ConfigError, match=r"train_own_context must be in \[0, 1\]"):
        student_config(teacher, own_context=2.0)


@pytest.mark.parametrize("k", [1, 2])
def test_a_students_own_frame_comes_from_its_emitting_call(k):
    """A student knows only its own time grid: call A puts slot 0 at τ = 1/(W·K) (global
    time 1/K, the call whose slot 0 the sampler emits) in every row, and the later slots
    at (w + 1/K)/W; the draws are the teacher's (t_A drawn and set aside), so the coin
    falls as in `test_the_coin_replaces_only_the_last_context_frame`."""
    config = DiffusionConfig(window_size=3, steps_per_shift=k, init_steps=3 * k,
                             distilled_from=2 * k, eta=0.0, train_own_context=0.5)
    x = _frames(config, batch=64)
    seen = []

    def network(inp, log_snr, is_context):
        seen.append(log_snr[:, config.num_context:].clone())
        return torch.zeros_like(inp)

    out = own_context_examples(network, x, config, start=0, total=64,
                               generator=torch.Generator().manual_seed(2))
    tau = (torch.arange(3, dtype=x.dtype) + 1 / k) / 3
    # the same λ(τ) of τ values formed in another order (≤ 2 ulp apart; |dλ/dτ| ≲ 40 on
    # τ ∈ [1/6, 1], |λ| ≤ 15): ~1e-13 absolute, far inside float64's default rtol 1e-7
    torch.testing.assert_close(seen[0], config.schedule.log_snr(tau).expand(64, 3))
    gen = torch.Generator().manual_seed(2)
    uniform((64,), device="cpu", dtype=x.dtype, generator=gen)
    standard_normal((64, 3, 8, 8), device="cpu", dtype=x.dtype, generator=gen)
    coin = uniform((64,), device="cpu", dtype=x.dtype, generator=gen) < 0.5
    n = config.num_context
    assert torch.equal((out[:, n - 1] != x[:, n]).flatten(1).any(dim=1), coin)
