"""Initial-condition ensembles (`ForecastSettings.context_noise`): member 0 is the control,
members m ≥ 1 start from the context plus ε σ η_m.

The persistence network repeats the last context frame, so each perturbed member's frames
are known exactly: ω_last + ε σ η_m, the same η_m at every lead.
"""

import dataclasses

import numpy as np
import pytest
import torch

from rollflow.errors import DataError, StoreError
from rollflow.forecast import ForecastSettings, forecast, forecast_to_store
from rollflow.forecast.perturb import perturb_members, perturbation_generator

from test_chunked import _model as _wobbly
from test_chunked import _truth as _chunk_truth
from test_rollout import _model, _truth

class Mixed(torch.nn.Module):
    """Output depends on the noisy window (so the sampler's noise matters) and on the last
    of the two context frames (so the perturbation matters)."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x, log_snr, is_context):
        return torch.tanh(0.7 * x + 0.1 * log_snr[..., None, None]) + 0.5 * x[:, 1:2]


SETTINGS = ForecastSettings(init_index=4, num_frames=3, num_members=5, batch_size=2, seed=3)


def test_perturbed_members_of_a_persistence_forecast_are_the_context_plus_the_noise():
    truth, model, eps, sigma = _truth(num_samples=6), _model("deterministic"), 0.05, 2.0
    plain = forecast(model, truth, SETTINGS).vorticity.values
    out = forecast(model, truth, dataclasses.replace(SETTINGS, context_noise=eps))
    values = out.vorticity.values
    assert out.attrs["forecast_context_noise"] == eps
    np.testing.assert_array_equal(values[:, 0], plain[:, 0])   # the control: untouched
    delta = values[:, 1:] - values[:, :1]                       # ε σ η_m, m ≥ 1
    # Float32 rounding of (ω − μ)/σ + εη and back: |error| ≤ 4·eps32·(|ω| + |μ| + 1) ≲ 1e-5
    # for |ω| ≲ 5 and μ = 3; the same η at every lead, with no spatial mean.
    np.testing.assert_allclose(delta, np.broadcast_to(delta[:, :, :1], delta.shape), atol=1e-5)
    assert np.abs(delta.mean(axis=(-2, -1))).max() < 1e-5
    # White noise of std ε σ (times √(1 − 1/N²) for the removed mean): over n = 6 · 4 · 64
    # = 1536 values the sample std is within 5 √(1/2n) = 9 % of it.
    expected = eps * sigma * np.sqrt(1 - 1 / 64)
    assert abs(delta[:, :, 0].std() / expected - 1) < 0.09
    again = forecast(model, truth, dataclasses.replace(SETTINGS, context_noise=eps))
    np.testing.assert_array_equal(again.vorticity.values, values)          # seeded


def test_no_noise_is_the_plain_forecast_and_the_sampler_noise_is_unchanged():
    truth, model = _chunk_truth(num_samples=4), _wobbly()
    model.network = Mixed().eval()
    settings = ForecastSettings(init_index=3, num_frames=4, num_members=3, batch_size=2, seed=7)
    plain = forecast(model, truth, settings)
    zero = forecast(model, truth, dataclasses.replace(settings, context_noise=0.0))
    np.testing.assert_array_equal(zero.vorticity.values, plain.vorticity.values)
    assert "forecast_context_noise" not in zero.attrs      # absent means unperturbed
    noisy = forecast(model, truth, dataclasses.replace(settings, context_noise=0.1)).vorticity
    # A diffusion model: the control keeps the plain forecast's sampler noise exactly.
    np.testing.assert_array_equal(noisy.values[:, 0], plain.vorticity.values[:, 0])
    assert not np.allclose(noisy.values[:, 1:], plain.vorticity.values[:, 1:])


def test_perturb_members_leaves_one_member_and_zero_amplitude_alone():
    context = torch.randn(6, 2, 8, 8)
    gen = perturbation_generator(0, 0, torch.device("cpu"))
    assert perturb_members(context, 1, 0.5, gen) is context
    assert perturb_members(context, 3, 0.0, gen) is context
    out = perturb_members(context, 3, 0.5, gen)
    assert torch.equal(out[::3], context[::3])                 # rows 0, 3: the controls
    # One field for both context frames: (c + n) − c = n to 2·eps32·(|c| + |n|) ≲ 4e-6.
    torch.testing.assert_close(out[1, 0] - context[1, 0], out[1, 1] - context[1, 1],
                               rtol=0, atol=4e-6)


def test_bad_noise_is_refused_and_stores_resume_only_under_the_same_noise(tmp_path):
    with pytest.raises(DataError, match="context_noise must be ≥ 0"):
        dataclasses.replace(SETTINGS, context_noise=-0.1)
    with pytest.raises(DataError, match="context_noise must be ≥ 0"):
        dataclasses.replace(SETTINGS, context_noise=float("nan"))
    truth, model = _chunk_truth(), _wobbly()
    settings = ForecastSettings(init_index=3, num_frames=2, num_members=2, batch_size=2,
                                context_noise=0.1)
    forecast_to_store(model, truth, settings, tmp_path / "fc.zarr")
    for other in (0.2, 0.0):
        with pytest.raises(StoreError, match="forecast_context_noise"):
            forecast_to_store(model, truth, dataclasses.replace(settings, context_noise=other),
                              tmp_path / "fc.zarr")
