"""The DDIM/ancestral step: η = 0 algebra, η = 1 is the Gaussian posterior, marginals for any η."""

import pytest
import torch

from rollflow.diffusion import CosineSchedule, ddim_step

SCHEDULE = CosineSchedule()


def _setup(n=20000, tau_t=0.6, tau_s=0.35, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, 3, 3, generator=gen, dtype=torch.float64)
    eps = torch.randn(n, 2, 3, 3, generator=gen, dtype=torch.float64)
    noise = torch.randn(n, 2, 3, 3, generator=gen, dtype=torch.float64)
    lam_t = SCHEDULE.log_snr(torch.full((n, 2), tau_t, dtype=torch.float64))
    lam_s = SCHEDULE.log_snr(torch.full((n, 2), tau_s, dtype=torch.float64))
    a_t, s_t = SCHEDULE.alpha_sigma_from_log_snr(lam_t[0, 0])
    z_t = a_t * x + s_t * eps
    return x, eps, noise, z_t, lam_t, lam_s


def test_eta_zero_is_ddim():
    x, eps, _, z_t, lam_t, lam_s = _setup(n=4)
    a_s, s_s = SCHEDULE.alpha_sigma_from_log_snr(lam_s[0, 0])
    z_s = ddim_step(z_t, x, eps, log_snr_t=lam_t, log_snr_s=lam_s, eta=0.0)
    assert torch.allclose(z_s, a_s * x + s_s * eps, atol=1e-14)


def test_eta_one_is_the_gaussian_posterior():
    x, eps, noise, z_t, lam_t, lam_s = _setup(n=4)
    a_t, s_t = SCHEDULE.alpha_sigma_from_log_snr(lam_t[0, 0])
    a_s, s_s = SCHEDULE.alpha_sigma_from_log_snr(lam_s[0, 0])
    a_ts = a_t / a_s                                  # q(z_t | z_s) = N(a_ts z_s, var_ts)
    var_ts = s_t**2 - a_ts**2 * s_s**2
    mean = a_ts * s_s**2 / s_t**2 * z_t + a_s * var_ts / s_t**2 * x
    std = (var_ts * s_s**2 / s_t**2).sqrt()
    z_s = ddim_step(z_t, x, eps, log_snr_t=lam_t, log_snr_s=lam_s, eta=1.0, noise=noise)
    assert torch.allclose(z_s, mean + std * noise, atol=1e-13)


@pytest.mark.parametrize("eta", [0.0, 0.3, 1.0])
def test_marginal_is_preserved_for_any_eta(eta):
    x, eps, noise, z_t, lam_t, lam_s = _setup()
    a_s, s_s = SCHEDULE.alpha_sigma_from_log_snr(lam_s[0, 0])
    z_s = ddim_step(z_t, x, eps, log_snr_t=lam_t, log_snr_s=lam_s, eta=eta, noise=noise)
    residual = (z_s - a_s * x) / s_s
    n = residual.numel()
    assert abs(residual.mean().item()) < 5 / n**0.5
    assert abs(residual.var().item() - 1) < 5 * (2 / n) ** 0.5
    corr = (residual * eps).mean().item()            # = sqrt(1 − σ_η²/σ_s²)
    expected = (1 - eta**2 * -torch.expm1(lam_t[0, 0] - lam_s[0, 0])).sqrt().item()
    assert abs(corr - expected) < 5 / n**0.5


def test_equal_log_snr_is_identity_for_any_eta():
    x, eps, noise, z_t, lam_t, _ = _setup(n=4, tau_t=1.0)
    for eta in (0.0, 1.0):
        z_s = ddim_step(z_t, x, eps, log_snr_t=lam_t, log_snr_s=lam_t, eta=eta, noise=noise)
        assert torch.allclose(z_s, z_t, atol=1e-12)


def test_bad_arguments():
    x, eps, noise, z_t, lam_t, lam_s = _setup(n=2)
    with pytest.raises(ValueError, match=r"eta must be in \[0, 1\]"):
        ddim_step(z_t, x, eps, log_snr_t=lam_t, log_snr_s=lam_s, eta=1.5, noise=noise)
    with pytest.raises(ValueError, match="needs noise"):
        ddim_step(z_t, x, eps, log_snr_t=lam_t, log_snr_s=lam_s, eta=0.5)
    with pytest.raises(ValueError, match="leading dims"):
        ddim_step(z_t, x, eps, log_snr_t=lam_t[:, :1], log_snr_s=lam_s[:, :1], eta=0.0)
