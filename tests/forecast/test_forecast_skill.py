"""scored_forecast: the forecast and its headline skill, cost attrs carried over."""

import numpy as np

from rollflow.analysis.skill import headline_skill
from rollflow.forecast import ForecastSettings, frames_for_horizon, scored_forecast

from test_rollout import Zero, _model, _truth


def test_scored_forecast_is_the_forecast_and_its_skill():
    truth = _truth(num_samples=4, num_times=16).to_dataset(name="vorticity")
    model = _model("rolling")
    settings = ForecastSettings(init_index=4, num_frames=6, num_members=2, batch_size=2)
    result, skill = scored_forecast(model, truth, settings, num_resamples=20)
    assert result.vorticity.shape == (4, 2, 6, 8, 8)
    again = headline_skill(result.vorticity, truth.vorticity, num_resamples=20).compute()
    np.testing.assert_array_equal(skill.decorrelation_mean_estimate.values,
                                  again.decorrelation_mean_estimate.values)
    for key in ("forecast_seconds_per_time_unit", "forecast_num_members",
                "forecast_network_calls_per_frame"):
        assert skill.attrs[key] == result.attrs[key]
    assert skill.attrs["forecast_num_members"] == 2


def test_frames_for_horizon_counts_model_frames():
    assert frames_for_horizon(_model("rolling", stride=1), 50) == 50
    assert frames_for_horizon(_model("rolling", stride=2), 50) == 25
    assert frames_for_horizon(_model("rolling", stride=2), 1) == 1


def test_a_stored_forecast_scores_as_in_memory_and_by_member_subsets(tmp_path):
    from rollflow.analysis.divergence import separation_growth
    from rollflow.forecast import forecast_to_store, score_forecast_store
    from rollflow.specs import FlowSpec
    from rollflow.store import open_trajectories, save_dataset, trajectories_to_dataset

    values = _truth(num_samples=4, num_times=16).values
    spec = FlowSpec(simulation_size=16, output_size=8, num_frames=16, num_samples=4,
                    warmup_time=0.0)
    save_dataset(trajectories_to_dataset(values, spec), tmp_path / "truth.zarr")
    truth = open_trajectories(tmp_path / "truth.zarr").load()
    model = _model("rolling")
    model.network = Zero()                       # members differ: subsets differ
    settings = ForecastSettings(init_index=4, num_frames=11, num_members=3, batch_size=2)
    forecast_to_store(model, truth.vorticity, settings, tmp_path / "fc.zarr", attrs=truth.attrs)
    _, expected = scored_forecast(model, truth, settings, num_resamples=20)
    skill = score_forecast_store(tmp_path / "fc.zarr", tmp_path / "truth.zarr",
                                 num_resamples=20)
    # The stored values equal the in-memory ones (same seeds per batch); the RMSE of the
    # float32 fields may still be summed in another order: ≤ n·eps relative, n = 4 samples
    # × 8 × 8 points, eps = 6e-8 → 1.5e-5.
    np.testing.assert_allclose(skill.rmse.values, expected.rmse.values, rtol=2e-5)
    assert skill.attrs["forecast_num_members"] == 3
    two = score_forecast_store(tmp_path / "fc.zarr", tmp_path / "truth.zarr", members=2,
                               num_resamples=20)
    assert two.attrs["forecast_num_members"] == 2
    assert two.attrs["forecast_seconds_per_time_unit"] == skill.attrs[
        "forecast_seconds_per_time_unit"]                 # per member: the same
    assert not np.allclose(two.rmse.values, skill.rmse.values)
    assert "ensemble_growth_rate" not in skill
    # Members whose separation grows like e^{λ t} (λ = 5 per t.u.) and then saturates,
    # about the stored forecast, written as a finished forecast of the same truth: the
    # growth rate read from the store is λ.
    stored = open_trajectories(tmp_path / "fc.zarr", validate=False).load()
    growth = 1e-4 * np.exp(5.0 * stored.lead_time.values)
    amplitude = (growth / (1 + growth))[:, None, None]
    rng = np.random.default_rng(1)
    bump = rng.standard_normal((4, 3, 1, 8, 8)) * amplitude * float(stored.vorticity.std())
    first = np.repeat(stored.vorticity.isel(member=[0]).values, 3, axis=1)
    diverging = stored.assign(vorticity=stored.vorticity.copy(data=first + bump))
    save_dataset(diverging.drop_vars("completed", errors="ignore"), tmp_path / "div.zarr")
    grown = score_forecast_store(tmp_path / "div.zarr", tmp_path / "truth.zarr", growth=True,
                                 num_resamples=20)
    rate = separation_growth(diverging.vorticity.swap_dims(time="lead_time"), dim="lead_time",
                             upper_fraction=0.5)["growth_rate"].mean()
    assert abs(float(rate) - 5.0) < 0.5
    np.testing.assert_allclose(float(grown.ensemble_growth_rate), float(rate), rtol=1e-12)



def test_settings_from_a_plan_table_refuse_unknown_keys():
    import pytest

    from rollflow.errors import ConfigError
    from rollflow.forecast import settings_from_plan

    table = {"members": 8, "frames": 50, "init_index": 2, "batch_size": 8, "seed": 3,
             "sweep_variant": "channels"}
    settings = settings_from_plan(table, ignore=["sweep_variant"], num_members=1)
    assert (settings.num_members, settings.num_frames, settings.init_index,
            settings.batch_size, settings.seed) == (1, 50, 2, 8, 3)
    with pytest.raises(ConfigError, match="sweep_variant"):
        settings_from_plan(table, where="[evaluate]")


def test_rollout_statistics_of_a_persistence_model_are_in_range():
    """Persistence repeats a truth frame: every rollout finite and, against a climate made
    of the truth's own frames, inside its kinetic-energy range at every frame."""
    from rollflow.forecast import rollout_statistics

    truth = _truth(num_samples=2, num_times=16).to_dataset(name="vorticity")
    stats = rollout_statistics(_model("rolling"), truth, truth.vorticity,
                               ForecastSettings(init_index=4, num_frames=8, batch_size=2))
    assert float(stats.share_finite) == 1.0
    assert float(stats.share_frames_in_range) == 1.0
    assert stats.kinetic_energy.dims == ("member", "time")
