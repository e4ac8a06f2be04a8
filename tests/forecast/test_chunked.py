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


def test_a_store_of_other_weights_with_the_same_name_and_settings_is_not_resumed(tmp_path):
    """A re-shipped model keeps its name, step and sampler settings: before the weights'
    fingerprint was a resume attr, its forecast into an existing store was 'already
    complete' and returned the old model's frames."""
    truth, model, path = _truth(), _model(), tmp_path / "fc.zarr"
    extra = {"forecast_run_dir": "kf32-rolling-k1", "forecast_checkpoint_step": 6000}
    forecast_to_store(model, truth, SETTINGS, path, extra_attrs=extra)
    retrained = _model()
    with torch.no_grad():
        retrained.network.weight.add_(1e-3)
    with pytest.raises(StoreError, match="forecast_weights_sha256"):
        forecast_to_store(retrained, truth, SETTINGS, path, extra_attrs=extra)
    assert forecast_to_store(_model(), truth, SETTINGS, path, extra_attrs=extra).num_run == 0


@pytest.mark.parametrize("mode,chunk", [("rolling", 4), ("standard", 3)])
def test_a_long_rollout_resumes_inside_a_batch(tmp_path, mode, chunk):
    """Issue 16: with time_chunk, an interrupt after the second chunk of the first batch
    keeps those frames; the next call continues from the saved sampler state, and the
    finished store equals the in-memory forecast bit for bit (the same operations in the
    same order). η = 1 so that the generator state matters too."""
    import dataclasses

    from rollflow.forecast.timechunks import partial_dir

    truth, model = _truth(), _model(mode)
    model.config.diffusion = dataclasses.replace(model.config.diffusion, eta=1.0,
                                                 standard_steps=2)
    whole = dataclasses.replace(SETTINGS, num_frames=12)
    expected = forecast(model, truth, whole)["vorticity"].values
    settings, path = dataclasses.replace(whole, time_chunk=chunk), tmp_path / "fc.zarr"
    seen = []

    def stop_at_second_chunk(frames):
        seen.append(frames)
        if len(seen) == 2:
            raise Stop

    with pytest.raises(Stop):
        forecast_to_store(model, truth, settings, path, progress=stop_at_second_chunk)
    assert not completed_samples(path).any()
    assert (partial_dir(path) / "batch_0.pt").exists()
    written = open_trajectories(path, validate=False)["vorticity"].values
    np.testing.assert_array_equal(written[:2, :, :2 * chunk], expected[:2, :, :2 * chunk])
    assert np.isnan(written[:2, :, 2 * chunk:]).all() and np.isnan(written[2:]).all()
    run = forecast_to_store(model, truth, settings, path)
    assert (run.resumed, run.num_run) == (True, 3)
    got = open_trajectories(path, validate=False)
    np.testing.assert_array_equal(got["vorticity"].values, expected)
    assert completed_samples(path).all() and not partial_dir(path).exists()
    assert got.attrs["forecast_time_chunk"] == chunk


def test_a_chunk_that_cuts_a_block_is_refused(tmp_path):
    """A block sampler (W = 3 frames per block) cannot stop inside a block."""
    import dataclasses

    from rollflow.errors import DataError

    settings = dataclasses.replace(SETTINGS, num_frames=12, time_chunk=4)
    with pytest.raises(DataError, match="multiple of the window"):
        forecast_to_store(_model("deterministic"), _truth(), settings, tmp_path / "fc.zarr")


def test_a_replaced_store_forgets_the_old_partial_states(tmp_path):
    """--overwrite of a store with an unfinished batch: its saved sampler state belongs to
    the old forecast and must not be continued (here another seed)."""
    import dataclasses

    from rollflow.forecast.timechunks import partial_dir

    truth, model = _truth(), _model()
    settings, path = dataclasses.replace(SETTINGS, num_frames=8, time_chunk=4), tmp_path / "f.zarr"

    def stop(frames):
        raise Stop

    with pytest.raises(Stop):
        forecast_to_store(model, truth, settings, path, progress=stop)
    assert (partial_dir(path) / "batch_0.pt").exists()
    other = dataclasses.replace(settings, seed=8)
    forecast_to_store(model, truth, other, path, overwrite=True)
    expected = forecast(model, truth, dataclasses.replace(other, time_chunk=None))
    np.testing.assert_array_equal(open_trajectories(path, validate=False)["vorticity"].values,
                                  expected["vorticity"].values)


def test_another_chunk_size_continues_the_same_forecast(tmp_path):
    """The chunk size is not part of the forecast: a run stopped after 4-frame chunks
    continues with 2-frame chunks (or whole batches) to the same values."""
    import dataclasses

    truth, model = _truth(), _model()
    whole = dataclasses.replace(SETTINGS, num_frames=12)
    expected = forecast(model, truth, whole)["vorticity"].values
    path = tmp_path / "fc.zarr"

    def stop(frames):
        raise Stop

    with pytest.raises(Stop):
        forecast_to_store(model, truth, dataclasses.replace(whole, time_chunk=4), path,
                          progress=stop)
    forecast_to_store(model, truth, dataclasses.replace(whole, time_chunk=2), path)
    np.testing.assert_array_equal(open_trajectories(path, validate=False)["vorticity"].values,
                                  expected)
