"""Forecast bookkeeping: which frames are context, time/lead-time coords, normalisation.

A persistence network (every window slot predicts the last context frame) makes the exact
answer known: each emitted frame equals truth[init_index], in every mode.
"""

import dataclasses
import types

import numpy as np
import pytest
import torch
import xarray as xr

from rollflow.diffusion import CosineSchedule, DiffusionConfig
from rollflow.errors import DataError
from rollflow.forecast import ForecastSettings, context_indices, forecast


class Persistence(torch.nn.Module):
    """Predicts the last clean context frame for every window slot (x or v target)."""

    def __init__(self, num_context: int, mode: str):
        super().__init__()
        self.num_context, self.mode = num_context, mode
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x, log_snr, is_context):
        assert bool(is_context[:, : self.num_context].all())
        last = x[:, self.num_context - 1: self.num_context]
        target = last.expand_as(x)
        if self.mode == "deterministic":
            return target
        alpha, sigma = CosineSchedule.alpha_sigma_from_log_snr(log_snr[..., None, None])
        return (alpha * x - target) / sigma  # v such that x̂ = α z − σ v = target


class Zero(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x, log_snr, is_context):
        return torch.zeros_like(x)


def _model(mode, num_context=2, window=3, stride=1, mean=3.0, std=2.0):
    config = types.SimpleNamespace(
        diffusion=DiffusionConfig(mode=mode, num_context=num_context, window_size=window,
                                  steps_per_shift=2),
        data=types.SimpleNamespace(frame_stride=stride))
    return types.SimpleNamespace(
        network=Persistence(num_context, mode).eval(), config=config,
        normalise=lambda v: (v - mean) / std, denormalise=lambda v: v * std + mean)


def _truth(num_samples=3, num_times=12, n=8, dt=0.2):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(num_samples, num_times, n, n)).astype(np.float32)
    return xr.DataArray(values, dims=("sample", "time", "x", "y"),
                        coords={"sample": np.arange(num_samples) + 10,
                                "time": np.arange(num_times) * dt,
                                "x": np.arange(n) * 2 * np.pi / n,
                                "y": np.arange(n) * 2 * np.pi / n},
                        attrs={"flow_save_interval": dt})


@pytest.mark.parametrize("mode", ["rolling", "standard", "deterministic"])
@pytest.mark.parametrize("stride", [1, 2])
def test_persistence_forecast_is_exact(mode, stride):
    truth = _truth()
    settings = ForecastSettings(init_index=5, num_frames=4, num_members=2, batch_size=2)
    out = forecast(_model(mode, stride=stride), truth, settings)
    v = out["vorticity"]
    assert v.dims == ("sample", "member", "time", "x", "y")
    assert v.shape == (3, 2, 4, 8, 8)
    expected = truth.isel(time=5).values[:, None, None]
    np.testing.assert_allclose(v.values, np.broadcast_to(expected, v.shape), atol=2e-3)
    np.testing.assert_allclose(out["lead_time"].values, np.arange(1, 5) * stride * 0.2)
    np.testing.assert_allclose(out["time"].values, 1.0 + np.arange(1, 5) * stride * 0.2)
    np.testing.assert_array_equal(out["sample"].values, truth["sample"].values)
    assert out.attrs["forecast_mode"] == mode and out.attrs["forecast_seed"] == 0
    assert out.attrs["flow_save_interval"] == 0.2  # the FlowSpec travels with the forecast


def test_context_indices_and_errors():
    assert context_indices(5, 3, 2) == [1, 3, 5]
    with pytest.raises(DataError, match="must be ≥ 4"):
        context_indices(3, 3, 2)
    with pytest.raises(DataError, match="past the last frame"):
        forecast(_model("rolling"), _truth(), ForecastSettings(init_index=40, num_frames=1))
    with pytest.raises(DataError, match="lacks dims"):
        forecast(_model("rolling"), _truth().rename(x="lon"),
                 ForecastSettings(init_index=4, num_frames=1))
    with pytest.raises(DataError, match="num_members"):
        ForecastSettings(init_index=1, num_frames=1, num_members=0)


def test_same_seed_same_forecast_and_members_differ():
    model = _model("rolling")
    model.network = Zero()  # output shaped by the sampler's noise only
    settings = ForecastSettings(init_index=4, num_frames=3, num_members=3, seed=7)
    a = forecast(model, _truth(), settings)["vorticity"].values
    b = forecast(model, _truth(), settings)["vorticity"].values
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[:, 0], a[:, 1])
    c = forecast(model, _truth(), dataclasses.replace(settings, seed=8))["vorticity"].values
    assert not np.allclose(a, c)


class Tilted(torch.nn.Module):
    """Persistence plus a fixed pattern that no symmetry maps to itself: not equivariant."""

    def __init__(self, num_context: int):
        super().__init__()
        self.num_context = num_context
        self.dummy = torch.nn.Parameter(torch.zeros(()))
        n = 8
        i = torch.arange(n, dtype=torch.float32)
        self.register_buffer("pattern", 0.1 * (i[:, None] + 0.3 * i[None, :] ** 2))

    def forward(self, x, log_snr, is_context):
        last = x[:, self.num_context - 1: self.num_context]
        return (last + self.pattern).expand_as(x)


def test_symmetry_members_map_back_exactly_for_an_equivariant_model():
    """Member m forecasts g_m·ω and maps back with g_m⁻¹. Persistence commutes with every
    g, so each member equals the plain forecast (to the float32 rounding of (ω − μ)/σ
    then back: |Δ| ≤ 4·eps32·(|ω| + |μ|) ≲ 1e-5 here); a model with a built-in asymmetry
    gives members that differ — the ensemble the symmetries provide."""
    truth = _truth()
    attrs = {"flow_save_interval": 0.2, "flow_forcing_wavenumber": 1}      # 8 % (2·1) = 0
    settings = dict(init_index=2, num_frames=4, num_members=5, batch_size=2)
    model = _model("deterministic")
    plain = forecast(model, truth, ForecastSettings(**settings), attrs=attrs).vorticity
    sym = forecast(model, truth, ForecastSettings(**settings, symmetry_members=True),
                   attrs=attrs)
    assert sym.attrs["forecast_symmetry_members"] == 1
    np.testing.assert_allclose(sym.vorticity.values, plain.values, rtol=0, atol=1e-5)
    tilted = types.SimpleNamespace(**{**vars(model), "network": Tilted(2).eval()})
    members = forecast(tilted, truth, ForecastSettings(**settings, symmetry_members=True),
                       attrs=attrs).vorticity
    spread = float(members.std("member").mean())
    assert spread > 0.01
    np.testing.assert_allclose(members.isel(member=0).values,
                               forecast(tilted, truth, ForecastSettings(**settings),
                                        attrs=attrs).vorticity.isel(member=0).values,
                               rtol=0, atol=1e-5)             # member 0 is the identity
    with pytest.raises(DataError, match="forcing wavenumber"):
        forecast(model, truth, ForecastSettings(**settings, symmetry_members=True),
                 attrs={"flow_save_interval": 0.2})
