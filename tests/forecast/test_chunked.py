"""Forecasts written batch by batch into a resumable store (`forecast_to_store`).

A small random network makes the sampler's output depend on its noise, so equality with
the in-memory `forecast()` checks the per-batch seeding, not just the bookkeeping.
"""

import types

import numpy as np
import pytest
import torch
import xarray as xr

from rollflow.diffusion import DiffusionConfig
from rollflow.errors import StoreError
from rollflow.forecast import (ForecastSettings, forecast, forecast_to_store,
                               pending_batch_starts)
from rollflow.store import completed_samples, open_trajectories


class Wobbly(torch.nn.Module):
    """Output depends non-linearly on the noisy input, so the noise matters."""

    def __init__(self):
        super().__init__()
        generator = torch.Generator().manual_seed(3)
        self.weight = torch.nn.Parameter(torch.randn((), generator=generator))

    def forward(self, x, log_snr, is_context):
        return torch.tanh(self.weight * x + 0.1 * log_snr[..., None, None])


def _model(mode="rolling"):
    config = types.SimpleNamespace(
        diffusion=DiffusionConfig(mode=mode, num_context=2, window_size=3, steps_per_shift=2),
        data=types.SimpleNamespace(frame_stride=1))
    return types.SimpleNamespace(network=Wobbly().eval(), config=config,
                                 normalise=lambda v: v / 2, denormalise=lambda v: v * 2)


def _truth(num_samples=5, num_times=10, n=8, dt=0.2):
    values = np.random.default_rng(0).normal(size=(num_samples, num_times, n, n))
    return xr.DataArray(values.astype(np.float32), dims=("sample", "time", "x", "y"),
                        coords={"sample": np.arange(num_samples) + 10,
                                "time": np.arange(num_times) * dt,
                                "x": np.arange(n) * 2 * np.pi / n,
                                "y": np.arange(n) * 2 * np.pi / n},
                        attrs={"flow_save_interval": dt})


SETTINGS = ForecastSettings(init_index=3, num_frames=4, num_members=2, batch_size=2, seed=7)


class Stop(Exception):
    pass


def test_pending_batch_starts_keeps_fixed_boundaries():
    done = np.array([1, 1, 0, 1, 1, 0, 0], bool)
    assert pending_batch_starts(done, 2) == [2, 4, 6]
    assert pending_batch_starts(done, 3) == [0, 3, 6]
    assert pending_batch_starts(np.ones(4, bool), 2) == []


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
@pytest.mark.parametrize("mode", ["rolling", "deterministic"])
def test_store_equals_in_memory_forecast(tmp_path, suffix, mode):
    truth, model = _truth(), _model(mode)
    expected = forecast(model, truth, SETTINGS)
    path = tmp_path / f"fc{suffix}"
    run = forecast_to_store(model, truth, SETTINGS, path, extra_attrs={"forecast_run_dir": "r"})
    assert (run.resumed, run.num_batches, run.num_run) == (False, 3, 3)
    got = open_trajectories(path, validate=False)
    np.testing.assert_array_equal(got["vorticity"].values, expected["vorticity"].values)
    np.testing.assert_allclose(got["lead_time"].values, expected["lead_time"].values)
    assert completed_samples(path).all()
    for key in ("forecast_network_calls_per_frame", "forecast_seed", "forecast_init_time"):
        assert got.attrs[key] == pytest.approx(expected.attrs[key])
    assert got.attrs["forecast_seconds_per_time_unit"] > 0


def test_interrupted_forecast_resumes_to_the_same_store(tmp_path):
    truth, model = _truth(), _model()
    expected = forecast(model, truth, SETTINGS)["vorticity"].values
    path = tmp_path / "fc.zarr"

    def stop_after_first(frames):
        raise Stop

    with pytest.raises(Stop):
        forecast_to_store(model, truth, SETTINGS, path, progress=stop_after_first)
    assert completed_samples(path).tolist() == [True, True, False, False, False]
    partial = open_trajectories(path, validate=False)["vorticity"].values
    np.testing.assert_array_equal(partial[:2], expected[:2])
    assert np.isnan(partial[2:]).all()          # unwritten samples read as NaN
    run = forecast_to_store(model, truth, SETTINGS, path)
    assert (run.resumed, run.num_run) == (True, 2)
    got = open_trajectories(path, validate=False)["vorticity"].values
    np.testing.assert_array_equal(got, expected)
    assert forecast_to_store(model, truth, SETTINGS, path).num_run == 0


def test_resume_with_other_settings_is_refused(tmp_path):
    truth, model = _truth(), _model()
    path = tmp_path / "fc.zarr"
    forecast_to_store(model, truth, SETTINGS, path, extra_attrs={"forecast_run_dir": "a"})
    other = ForecastSettings(init_index=3, num_frames=4, num_members=2, batch_size=2, seed=8)
    with pytest.raises(StoreError, match="forecast_seed .*--overwrite"):
        forecast_to_store(model, truth, other, path, extra_attrs={"forecast_run_dir": "a"})
    with pytest.raises(StoreError, match="forecast_run_dir"):
        forecast_to_store(model, truth, SETTINGS, path, extra_attrs={"forecast_run_dir": "b"})
    with pytest.raises(StoreError, match="coordinate sample"):
        forecast_to_store(model, truth.isel(sample=slice(1, None)).assign_coords(
            sample=np.arange(4)), SETTINGS, path, extra_attrs={"forecast_run_dir": "a"})
    run = forecast_to_store(model, truth, other, path, overwrite=True,
                            extra_attrs={"forecast_run_dir": "a"})
    assert (run.resumed, run.num_run) == (False, 3)
    assert open_trajectories(path, validate=False).attrs["forecast_seed"] == 8
