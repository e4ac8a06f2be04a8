"""Invariants of the cosine logSNR schedule (elementwise in τ, any shape)."""

import math

import pytest
import torch

from rollflow.diffusion import CosineSchedule
from rollflow.errors import ConfigError


def test_alpha_squared_plus_sigma_squared_is_one():
    tau = torch.linspace(0, 1, 1001, dtype=torch.float64)
    for schedule in (CosineSchedule(), CosineSchedule(shift=2.0), CosineSchedule(-5.0, 7.0)):
        alpha, sigma = schedule.alpha_sigma(tau)
        assert torch.allclose(alpha**2 + sigma**2, torch.ones_like(tau), atol=1e-12)
        assert (alpha > 0).all() and (sigma > 0).all()


def test_log_snr_matches_formula_and_clips():
    schedule = CosineSchedule()
    tau = torch.tensor([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0], dtype=torch.float64)
    expected = [15.0] + [-2 * math.log(math.tan(math.pi * t / 2)) for t in (0.1, 0.25, 0.5,
                                                                            0.75, 0.9)] + [-15.0]
    assert torch.allclose(schedule.log_snr(tau), torch.tensor(expected, dtype=torch.float64),
                          atol=1e-12)


def test_log_snr_strictly_decreasing_where_unclipped_and_monotone_overall():
    schedule = CosineSchedule()
    for dtype in (torch.float32, torch.float64):
        tau = torch.linspace(0, 1, 4001, dtype=dtype)
        lam = schedule.log_snr(tau)
        assert torch.isfinite(lam).all()
        diff = lam[1:] - lam[:-1]
        assert (diff <= 0).all()
        inside = (lam[1:] < 15.0) & (lam[:-1] > -15.0)
        assert inside.sum() > 3900
        if dtype == torch.float64:
            assert (diff[inside] < 0).all()
    assert schedule.log_snr(torch.tensor(0.0)) == 15.0
    assert schedule.log_snr(torch.tensor(1.0)) == -15.0


def test_any_shape_of_tau():
    schedule = CosineSchedule()
    for shape in [(), (3,), (2, 3, 4)]:
        tau = torch.rand(shape)
        lam = schedule.log_snr(tau)
        alpha, sigma = schedule.alpha_sigma(tau)
        assert lam.shape == alpha.shape == sigma.shape == tau.shape
        # elementwise: the value of one entry does not depend on the others
        flat = torch.stack([schedule.log_snr(t) for t in tau.reshape(-1)]).reshape(shape)
        assert torch.equal(flat, lam)


def test_shift_moves_log_snr():
    tau = torch.tensor([0.3, 0.5, 0.7], dtype=torch.float64)
    base = CosineSchedule().log_snr(tau)
    shifted = CosineSchedule(shift=1.5).log_snr(tau)
    assert torch.allclose(shifted - base, torch.full_like(tau, 1.5))
    # clip bounds are applied after the shift
    assert CosineSchedule(shift=3.0).log_snr(torch.tensor(0.0)) == 15.0
    assert CosineSchedule(shift=3.0).log_snr(torch.tensor(1.0)) == -15.0


def test_bad_schedule_rejected():
    with pytest.raises(ConfigError, match="logsnr_min < logsnr_max"):
        CosineSchedule(5.0, 5.0)
    with pytest.raises(ConfigError, match="finite"):
        CosineSchedule(shift=float("nan"))
