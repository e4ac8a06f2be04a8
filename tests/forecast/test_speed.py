"""Inference options: the same network, cheaper calls; bf16 only where the CPU has it."""

import pytest
import torch

import rollflow.forecast.speed as speed
from rollflow.forecast.speed import FastNetwork, InferenceOptions, fast_network
from rollflow.nets import UNetConfig, build_network

NET = UNetConfig(base_channels=8, channel_multipliers=(1, 2), embedding_dim=16,
                 attention_heads=2, norm_groups=4, window_encoding="channels")


def _inputs():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 16, 16, generator=gen)
    lam = torch.linspace(-5, 5, 4).expand(3, 4)
    ctx = torch.zeros(3, 4, dtype=torch.bool)
    ctx[:, :2] = True
    return x, lam, ctx


def test_channels_last_and_inference_mode_do_not_change_the_numbers():
    net = build_network(NET, 4).eval()
    x, lam, ctx = _inputs()
    with torch.no_grad():
        reference = net(x, lam, ctx)
    fast = fast_network(net, InferenceOptions(channels_last=True))
    out = fast(x, lam, ctx)
    assert isinstance(fast, FastNetwork) and out.dtype == torch.float32
    assert out.is_contiguous() and not out.requires_grad
    # the same float32 operations in another memory order: a different summation order
    # inside each convolution, relative ~ (9·C)·eps32 ≈ 1e-5 of the activations
    torch.testing.assert_close(out, reference, rtol=1e-4, atol=1e-5)
    assert fast_network(net, InferenceOptions()) is net          # nothing asked: unchanged


def test_bf16_without_native_support_falls_back_to_float32_with_one_notice(monkeypatch):
    monkeypatch.setattr(speed, "native_bf16", lambda: False)
    notices = []
    net = build_network(NET, 4).eval()
    fast = fast_network(net, InferenceOptions(precision="bfloat16"), warn=notices.append)
    assert fast is net                                            # plain float32
    assert notices == ["bf16 was asked for, but this CPU has no native bf16 (avx512_bf16/"
                       "AMX); using float32"]


def test_bf16_where_native_rounds_like_bf16(monkeypatch):
    monkeypatch.setattr(speed, "native_bf16", lambda: True)
    net = build_network(NET, 4).eval()
    x, lam, ctx = _inputs()
    with torch.no_grad():
        reference = net(x, lam, ctx)
    out = fast_network(net, InferenceOptions(precision="bfloat16"))(x, lam, ctx)
    assert out.dtype == torch.float32
    # bf16 keeps 8 mantissa bits (relative 2^-8 = 0.4 % per rounding); through a few
    # layers the output moves by a few percent of its scale, never by its own size
    error = float((out - reference).norm() / reference.norm())
    assert 1e-4 < error < 0.1
