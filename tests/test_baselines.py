"""Solver reference forecasts: exact upsampling, and a truth-resolution solver that
reproduces the truth when the truth was made on the same grid."""

import numpy as np
import pytest
import xarray as xr

from rollflow import solver
from rollflow.errors import DataError, StoreError
from rollflow.baselines import solver_forecast, spectral_upsample
from rollflow.specs import FlowSpec


def test_upsample_is_exact_interpolation_of_band_limited_fields():
    n, big = 16, 64
    x = np.arange(big) * 2 * np.pi / big
    X, Y = np.meshgrid(x, x, indexing="ij")
    fine = np.sin(3 * X) * np.cos(2 * Y) + 0.5 * np.cos(5 * X - 7 * Y)
    coarse = fine[:: big // n, :: big // n]
    np.testing.assert_allclose(spectral_upsample(coarse, big), fine, atol=1e-12)
    np.testing.assert_allclose(solver.downsample(spectral_upsample(coarse, big), n), coarse,
                               atol=1e-6)
    with pytest.raises(DataError):
        spectral_upsample(coarse, 8)


def test_same_grid_solver_reproduces_truth_and_layout():
    spec = FlowSpec(simulation_size=32, output_size=32, warmup_time=10.0, num_frames=8,
                    num_samples=2, save_interval=0.2)
    frames = solver.simulate(spec, [0, 1])
    grid = np.arange(32) * spec.domain_size / 32
    truth = xr.DataArray(frames, dims=("sample", "time", "x", "y"),
                         coords={"sample": [0, 1], "time": np.arange(8) * 0.2, "x": grid, "y": grid})
    out = solver_forecast(truth, spec, init_index=2, num_frames=2, simulation_size=32,
                          frame_stride=2)
    v = out["vorticity"]
    assert v.dims == ("sample", "member", "time", "x", "y") and v.shape == (2, 1, 2, 32, 32)
    np.testing.assert_allclose(out["lead_time"].values, [0.4, 0.8])
    np.testing.assert_allclose(out["time"].values, [0.8, 1.2])
    # The restart drops the (tiny, after warm-up) Nyquist content the truth store never had.
    expected = truth.isel(time=[4, 6]).values
    error = np.linalg.norm(v.values[:, 0] - expected, axis=(-2, -1))
    assert (error / np.linalg.norm(expected, axis=(-2, -1)) < 1e-3).all()
    other = np.linalg.norm(v.values[::-1, 0] - expected, axis=(-2, -1))  # wrong sample: O(1)
    assert (other / np.linalg.norm(expected, axis=(-2, -1)) > 0.5).all()


def test_persistence_repeats_the_initial_state():
    from rollflow.baselines import persistence_forecast

    values = np.random.default_rng(0).standard_normal((2, 6, 8, 8)).astype(np.float32)
    grid = np.arange(8) * 2 * np.pi / 8
    truth = xr.DataArray(values, dims=("sample", "time", "x", "y"),
                         coords={"sample": [3, 4], "time": np.arange(6) * 0.2, "x": grid,
                                 "y": grid})
    out = persistence_forecast(truth, init_index=1, num_frames=4, save_interval=0.2)
    v = out["vorticity"]
    assert v.shape == (2, 1, 4, 8, 8) and out.attrs["forecast_mode"] == "persistence"
    np.testing.assert_array_equal(v.values[:, 0, 3], values[:, 1])
    np.testing.assert_allclose(out["lead_time"].values, [0.2, 0.4, 0.6, 0.8])
    np.testing.assert_allclose(out["time"].values, [0.4, 0.6, 0.8, 1.0])


def test_a_solver_baseline_and_a_model_forecast_share_coords_and_spec_attrs():
    """One builder for every forecast-format dataset (issue 17): a solver baseline and a
    model rollout of the same states of a segment store carry identical coords (sample
    with its trajectory label, time, lead_time, x, y) and identical truth attrs."""
    import types

    import torch

    from rollflow.diffusion import DiffusionConfig
    from rollflow.forecast import ForecastSettings, forecast
    from rollflow.store import cut_segments, trajectories_to_dataset, truth_attrs

    spec = FlowSpec(simulation_size=16, output_size=16, warmup_time=0.0, num_frames=12,
                    num_samples=2, save_interval=0.2)
    long = trajectories_to_dataset(solver.simulate(spec, [0, 1]), spec)
    segments = cut_segments(long, starts=[0, 5], num_frames=7, source_name="long")
    truth = segments.vorticity

    class Last(torch.nn.Module):                 # persistence, as a deterministic model
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x, log_snr, is_context):
            return x[:, 1:2].expand_as(x)

    model = types.SimpleNamespace(
        network=Last(), normalise=lambda v: v, denormalise=lambda v: v,
        config=types.SimpleNamespace(data=types.SimpleNamespace(frame_stride=1),
                                     diffusion=DiffusionConfig(mode="deterministic",
                                                               window_size=2)))
    settings = ForecastSettings(init_index=2, num_frames=3)
    learned = forecast(model, truth, settings, attrs=segments.attrs)
    solved = solver_forecast(truth, FlowSpec.from_attrs(segments.attrs), init_index=2,
                             num_frames=3, simulation_size=16, source_attrs=segments.attrs)
    for name in ("sample", "trajectory", "time", "lead_time", "x", "y"):
        np.testing.assert_array_equal(learned[name].values, solved[name].values)
    assert truth_attrs(learned.attrs) == truth_attrs(solved.attrs) == truth_attrs(segments.attrs)
    assert learned.attrs["forecast_init_time"] == solved.attrs["forecast_init_time"]


def test_climatologies_are_the_mean_state_and_random_climate_frames():
    from rollflow.baselines import climatology_forecasts

    rng = np.random.default_rng(1)
    grid = np.arange(8) * 2 * np.pi / 8
    coords = {"time": np.arange(5) * 0.2, "x": grid, "y": grid}
    climate = xr.DataArray(rng.standard_normal((3, 5, 8, 8)).astype(np.float32),
                           dims=("sample", "time", "x", "y"), coords={"sample": [0, 1, 2], **coords})
    truth = xr.DataArray(rng.standard_normal((2, 5, 8, 8)).astype(np.float32),
                         dims=("sample", "time", "x", "y"), coords={"sample": [7, 9], **coords})
    mean, members = climatology_forecasts(truth, climate, init_index=1, num_frames=3,
                                          num_members=4, seed=5)
    np.testing.assert_allclose(mean.vorticity.values[1, 0, 2], climate.mean(("sample", "time")),
                               rtol=1e-6)
    assert members.vorticity.shape == (2, 4, 3, 8, 8)
    frames = climate.values.reshape(15, 8, 8)
    for value in members.vorticity.values.reshape(-1, 8, 8):           # every member frame
        assert any(np.array_equal(value, f) for f in frames)           # is a climate frame
    again = climatology_forecasts(truth, climate, init_index=1, num_frames=3, num_members=4,
                                  seed=5)[1]
    np.testing.assert_array_equal(again.vorticity.values, members.vorticity.values)
    np.testing.assert_allclose(members.lead_time.values, [0.2, 0.4, 0.6])


def test_reference_stores_are_scorable_against_their_truth_and_kept_on_rerun(tmp_path):
    """Every reference store records the truth it started from (evaluate accepts it) and
    a second call keeps what exists (resume, nothing rewritten)."""
    from rollflow.baselines import reference_forecast_stores
    from rollflow.forecast import score_forecast_store
    from rollflow.store import save_dataset, trajectories_to_dataset

    spec = FlowSpec(simulation_size=16, output_size=16, warmup_time=0.4, num_frames=6,
                    num_samples=2, save_interval=0.2)
    save_dataset(trajectories_to_dataset(solver.simulate(spec, [0, 1]), spec),
                 tmp_path / "truth.zarr")
    kwargs = dict(init_index=1, num_frames=3, solver_sizes=[16],
                  climate_path=tmp_path / "truth.zarr", num_members=2)
    paths = reference_forecast_stores(tmp_path / "truth.zarr", tmp_path / "refs", **kwargs)
    assert sorted(paths) == ["climatology", "climatology_prob", "persistence", "solver_16"]
    stamps = {n: p.stat().st_mtime_ns for n, p in paths.items()}
    for name, path in paths.items():
        skill = score_forecast_store(path, tmp_path / "truth.zarr", num_resamples=10,
                                     growth=True)
        assert skill.attrs["forecast_num_members"] == (2 if name == "climatology_prob" else 1)
        # The climatology's members are unrelated frames, not a divergence from one state:
        # no growth rate (it was a nan row beside λ₁ on the benchmark page).
        assert "ensemble_growth_rate" not in skill
    assert reference_forecast_stores(tmp_path / "truth.zarr", tmp_path / "refs",
                                     **kwargs) == paths
    with pytest.raises(StoreError, match="lies inside the input"):   # never into an input
        reference_forecast_stores(tmp_path / "truth.zarr", tmp_path / "truth.zarr" / "refs",
                                  **kwargs)
    assert {n: p.stat().st_mtime_ns for n, p in paths.items()} == stamps
