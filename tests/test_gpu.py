"""CUDA checks (marked `gpu`, excluded by default; run by benchmarks/gpu.sh on a GPU)."""

import pytest
import torch

from rollflow.diffusion import DiffusionConfig, make_objective, make_sampler
from rollflow.nets import UNetConfig, build_network

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

NET = UNetConfig(window_encoding="channels", base_channels=16, channel_multipliers=(1, 2, 2),
                 embedding_dim=32, attention_heads=2, norm_groups=4)
DIFF = DiffusionConfig(mode="rolling", num_context=2, window_size=3, steps_per_shift=2)


def _pair():
    torch.manual_seed(0)
    cpu = build_network(NET, 5).eval()
    gpu = build_network(NET, 5).eval()
    gpu.load_state_dict(cpu.state_dict())
    return cpu, gpu.cuda()


def test_network_on_cuda_matches_cpu():
    cpu, gpu = _pair()
    x, lam = torch.randn(4, 5, 32, 32), torch.linspace(-5, 5, 5).expand(4, 5)
    flags = torch.zeros(4, 5, dtype=torch.bool)
    flags[:, :2] = True
    with torch.no_grad():
        expected = cpu(x, lam, flags)
        got = gpu(x.cuda(), lam.cuda(), flags.cuda()).cpu()
    torch.testing.assert_close(got, expected, atol=2e-3, rtol=2e-3)


def test_bf16_training_steps_are_finite_and_learn():
    _, net = _pair()
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3)
    objective = make_objective(DIFF)
    frames = torch.randn(8, 5, 32, 32, device="cuda").cumsum(dim=1) / 3
    losses = []
    for step in range(40):
        gen = torch.Generator(device="cuda").manual_seed(step % 4)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss, _ = objective.loss(net, frames, generator=gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert all(torch.isfinite(torch.tensor(losses)))
    assert sum(losses[-5:]) < sum(losses[:5])


def test_sampler_on_cuda_with_a_cpu_generator_matches_cpu():
    """Noise is drawn on the generator's device, so the same seed gives the same forecast
    on either device (up to float rounding over a few frames)."""
    cpu, gpu = _pair()
    context = torch.randn(2, 2, 32, 32)
    out_cpu = make_sampler(DIFF, cpu)(context, 3, generator=torch.Generator().manual_seed(1))
    out_gpu = make_sampler(DIFF, gpu)(context.cuda(), 3,
                                      generator=torch.Generator().manual_seed(1)).cpu()
    torch.testing.assert_close(out_gpu, out_cpu, atol=1e-2, rtol=1e-2)
