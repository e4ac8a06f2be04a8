from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rollflow.errors import ConfigError, StoreError
from rollflow.generate import (
    GenerationConfig, generate_store, load_simulation_config, pending_batches,
)
from rollflow.specs import FlowSpec
from rollflow.analysis.budget import spec_physics_checks
from rollflow.store import CHECKS, completed_samples, open_trajectories, recorded_checks

SIMULATIONS_DIR = Path(__file__).resolve().parents[2] / "simulations"
# `rollflow simulate` configs ([flow] + [generation]); other tools' configs (e.g. the
# [lyapunov] ones) are tested with those tools.
SIMULATE_CONFIGS = ["kf64.toml", "kf32.toml", "laminar.toml"]
FORMATS = ["run.zarr", "run.nc"]


def test_pending_batches_split_contiguous_runs():
    done = np.array([1, 0, 0, 0, 1, 0, 0, 1, 0], bool)
    assert pending_batches(done, 2) == [range(1, 3), range(3, 4), range(5, 7), range(8, 9)]
    assert pending_batches(np.zeros(5, bool), 5) == [range(0, 5)]
    assert pending_batches(np.ones(3, bool), 2) == []


@pytest.mark.parametrize("name", FORMATS)
def test_generation_writes_every_sample(tmp_path, tiny_spec, fake_solver, name):
    path = generate_store(tiny_spec, tmp_path / name, batch_size=2, progress=False,
                          command="rollflow simulate t.toml", simulate_fn=fake_solver)
    assert fake_solver.calls == [[0, 1], [2, 3], [4]]
    with open_trajectories(path) as ds:
        expected = np.stack([fake_solver.sample(tiny_spec, i) for i in range(5)])
        np.testing.assert_array_equal(ds.vorticity.values, expected)
        assert ds.attrs["command"] == "rollflow simulate t.toml"
    generate_store(tiny_spec, path, batch_size=2, progress=False, simulate_fn=fake_solver)
    assert len(fake_solver.calls) == 3  # a finished store is not simulated again


@pytest.mark.parametrize("name", FORMATS)
def test_generation_records_the_checks_of_the_stored_frames(tmp_path, tiny_spec,
                                                           fake_solver, name):
    """The recorded checks are those of the stored float32 frames: recomputing them from
    the store changes only the order of float64 sums over ≤ 70 × 8² terms (relative error
    ≤ n·eps ≈ 1e-12 of the summed magnitudes, all O(1) here), so 1e-9 is a safe bound."""
    path = generate_store(tiny_spec, tmp_path / name, batch_size=2, progress=False,
                          simulate_fn=fake_solver)
    recorded = recorded_checks(path, tiny_spec, np.arange(tiny_spec.num_samples))
    with open_trajectories(path) as ds:
        fresh = spec_physics_checks(ds.vorticity, tiny_spec)
    for name_ in CHECKS:
        np.testing.assert_allclose(recorded[name_].values, fresh[name_].values,
                                   rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", FORMATS)
def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, tiny_spec, make_fake_solver,
                                                       name):
    interrupted = make_fake_solver(interrupt_on_call=2)
    resumed_path = tmp_path / "resumed" / name
    with pytest.raises(KeyboardInterrupt):
        generate_store(tiny_spec, resumed_path, batch_size=2, progress=False,
                       command="cmd", simulate_fn=interrupted)
    np.testing.assert_array_equal(completed_samples(resumed_path), [1, 1, 0, 0, 0])
    with open_trajectories(resumed_path, allow_incomplete=True) as ds:
        created = ds.attrs["created"]
    rerun = make_fake_solver()
    generate_store(tiny_spec, resumed_path, batch_size=2, progress=False, command="cmd",
                   simulate_fn=rerun)
    assert rerun.calls == [[2, 3], [4]]  # only the lost and the remaining batches

    whole_path = generate_store(tiny_spec, tmp_path / "whole" / name, batch_size=2,
                                progress=False, command="cmd", simulate_fn=make_fake_solver())
    with open_trajectories(resumed_path) as a, open_trajectories(whole_path) as b:
        a, b = a.load(), b.load()
    assert a.attrs["created"] == created  # resuming never rewrites provenance
    # Separate runs differ only in their creation time stamp.
    b.attrs["created"] = created
    xr.testing.assert_identical(a, b)
    assert a.attrs == b.attrs


def test_clashing_spec_needs_overwrite(tmp_path, tiny_spec, fake_solver):
    path = generate_store(tiny_spec, tmp_path / "run.zarr", batch_size=5, progress=False,
                          simulate_fn=fake_solver)
    other = tiny_spec.replace(viscosity=2e-3)
    with pytest.raises(StoreError, match=r"differs in flow_viscosity \(0.001 vs 0.002\)"):
        generate_store(other, path, batch_size=5, progress=False, simulate_fn=fake_solver)
    generate_store(other, path, batch_size=5, overwrite=True, progress=False,
                   simulate_fn=fake_solver)
    with open_trajectories(path) as ds:
        assert FlowSpec.from_attrs(ds.attrs) == other


def test_progress_bar_reports_rate(tmp_path, tiny_spec, fake_solver, capsys):
    generate_store(tiny_spec, tmp_path / "run.zarr", batch_size=5, progress=True,
                   simulate_fn=fake_solver)
    err = capsys.readouterr().err
    total = (tiny_spec.warmup_frames + tiny_spec.num_frames) * 5
    assert f"{total}/{total}" in err and "t.u./s" in err and "frame" in err


@pytest.mark.parametrize("name", SIMULATE_CONFIGS)
def test_every_simulation_config_builds(name):
    config = load_simulation_config(SIMULATIONS_DIR / name)
    assert config.flow.steps_per_frame * config.flow.time_step == pytest.approx(
        config.flow.save_interval)
    assert config.generation.batch_size >= 1


def test_benchmark_configs_match_the_method():
    kf64 = load_simulation_config(SIMULATIONS_DIR / "kf64.toml").flow
    assert (kf64.simulation_size, kf64.output_size, kf64.warmup_time) == (256, 64, 40.0)
    assert (kf64.viscosity, kf64.drag, kf64.forcing_wavenumber) == (1e-3, 0.1, 4)
    kf32 = load_simulation_config(SIMULATIONS_DIR / "kf32.toml").flow
    assert (kf32.simulation_size, kf32.output_size) == (128, 32)
    assert kf32.replace(simulation_size=256, output_size=64) == kf64.replace(num_samples=8)
    assert load_simulation_config(SIMULATIONS_DIR / "laminar.toml").flow.viscosity == 0.1


@pytest.mark.parametrize("text, message", [
    ("[flow]\nviscosity = -1e-3\n", "FlowSpec.viscosity must be > 0"),
    ("[flow]\nsimulation_size = 127\n", "simulation_size must be an even integer"),
    ("[flow]\nviscosty = 1e-3\n", "unknown key 'viscosty' in run.toml.flow"),
    ("[flow]\n[solver]\nx = 1\n", "unknown key 'solver' in run.toml"),
    ("[generation]\nbatch_size = 2\n", "missing \\[flow\\] table"),
    ("[flow]\n[generation]\nbatch_size = 0\n", "batch_size must be an integer ≥ 1"),
    ("[flow\n", "invalid TOML"),
])
def test_bad_configs_are_named(tmp_path, text, message):
    (tmp_path / "run.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_simulation_config(tmp_path / "run.toml")


def test_generation_config_rejects_bad_batch_size():
    with pytest.raises(ConfigError):
        GenerationConfig(batch_size=True)
