"""v-parameterisation algebra and the assembled network inputs."""

import torch

from rollflow.diffusion import CosineSchedule, Denoiser, network_inputs, predict_from_v, v_target


def test_v_algebra_recovers_x_and_eps():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 5, 5, generator=gen, dtype=torch.float64)
    eps = torch.randn(3, 4, 5, 5, generator=gen, dtype=torch.float64)
    alpha, sigma = CosineSchedule().alpha_sigma(torch.rand(3, 4, generator=gen,
                                                           dtype=torch.float64))
    z = alpha[..., None, None] * x + sigma[..., None, None] * eps
    x_hat, eps_hat = predict_from_v(z, v_target(x, eps, alpha, sigma), alpha, sigma)
    assert torch.allclose(x_hat, x, atol=1e-12) and torch.allclose(eps_hat, eps, atol=1e-12)


def test_network_inputs_layout():
    context, window = torch.ones(2, 3, 4, 4), torch.zeros(2, 5, 4, 4)
    lam = torch.linspace(-1, 1, 10).reshape(2, 5)
    x, log_snr, is_context = network_inputs(context, window, lam, logsnr_max=15.0)
    assert x.shape == (2, 8, 4, 4) and log_snr.shape == is_context.shape == (2, 8)
    assert torch.equal(x[:, :3], context) and torch.equal(x[:, 3:], window)
    assert (log_snr[:, :3] == 15.0).all() and torch.equal(log_snr[:, 3:], lam)
    assert is_context.dtype == torch.bool
    assert is_context[:, :3].all() and not is_context[:, 3:].any()


def test_denoiser_counts_calls_and_uses_per_slot_log_snr():
    seen = []

    def network(x, log_snr, is_context):
        seen.append(log_snr.clone())
        return torch.zeros_like(x)

    schedule = CosineSchedule()
    denoiser = Denoiser(network, schedule, num_context=1)
    z = torch.randn(2, 3, 4, 4)
    tau = torch.tensor([0.0, 0.5, 1.0])
    x_hat, eps_hat = denoiser(torch.zeros(2, 1, 4, 4), z, tau)
    alpha, sigma = schedule.alpha_sigma(tau)
    assert torch.allclose(x_hat, alpha[:, None, None] * z)      # v̂ = 0 → x̂ = α z
    assert torch.allclose(eps_hat, sigma[:, None, None] * z)
    assert denoiser.num_calls == 1
    assert torch.equal(seen[0][:, 1:], schedule.log_snr(tau).expand(2, 3))
