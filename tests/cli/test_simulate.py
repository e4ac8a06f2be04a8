import signal
import tomllib

import numpy as np
import pytest

from rollflow.cli import main
from rollflow.configio import from_mapping
from rollflow.generate import SimulationConfig
from rollflow.store import completed_samples, open_trajectories, read_spec

TINY = """
[flow]
simulation_size = 16
output_size = 8
warmup_time = 0.4
num_frames = 70
num_samples = 3
seed = 1

[generation]
batch_size = 2
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture
def fake(monkeypatch, make_fake_solver):
    solver = make_fake_solver()
    monkeypatch.setattr("rollflow.generate.serial.default_simulate", lambda: solver)
    return solver


def _one_line_error(capsys, code):
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("rollflow simulate: error: ") and err.count("\n") == 1, err
    return err


def test_simulate_writes_store_config_and_overrides(tmp_path, config, fake, capsys):
    out = tmp_path / "data" / "run.zarr"
    code = main(["simulate", str(config), "--out", str(out), "--samples", "4", "--seed", "9",
                 "--batch-size", "3", "--quiet"])
    assert code == 0
    assert fake.calls == [[0, 1, 2], [3]]
    spec = read_spec(out)
    assert (spec.num_samples, spec.seed, spec.num_frames) == (4, 9, 70)
    with open_trajectories(out) as ds:
        np.testing.assert_array_equal(ds.vorticity[3].values, fake.sample(spec, 3))
        attrs = ds.attrs
    assert "--samples 4 --seed 9 --batch-size 3" in attrs["command"]
    beside = tmp_path / "data" / "run.config.toml"
    for text in (attrs["config"], beside.read_text()):
        resolved = from_mapping(SimulationConfig, tomllib.loads(text), where="saved")
        assert resolved.flow == spec and resolved.generation.batch_size == 3
    assert "run.zarr: 4 samples × 70 frames × 8²" in capsys.readouterr().out


def test_netcdf_by_suffix_and_format_flag(tmp_path, config, fake, capsys):
    assert main(["simulate", str(config), "--out", str(tmp_path / "run.nc"), "--quiet"]) == 0
    assert read_spec(tmp_path / "run.nc").num_samples == 3
    code = main(["simulate", str(config), "--out", str(tmp_path / "run.zarr"),
                 "--format", "netcdf", "--quiet"])
    assert "--format netcdf needs an --out path ending in .nc" in _one_line_error(capsys, code)


def test_rerun_resumes_and_clashing_spec_needs_overwrite(tmp_path, config, fake, capsys):
    out = str(tmp_path / "run.zarr")
    assert main(["simulate", str(config), "--out", out, "--quiet"]) == 0
    assert main(["simulate", str(config), "--out", out, "--quiet"]) == 0
    assert len(fake.calls) == 2  # second run found every sample complete
    capsys.readouterr()
    code = main(["simulate", str(config), "--out", out, "--seed", "2", "--quiet"])
    err = _one_line_error(capsys, code)
    assert "differs in flow_seed (1 vs 2)" in err and "--overwrite" in err
    assert main(["simulate", str(config), "--out", out, "--seed", "2", "--overwrite",
                 "--quiet"]) == 0
    assert read_spec(out).seed == 2


@pytest.mark.parametrize("key, value, message", [
    ("viscosity", "-1e-3", "FlowSpec.viscosity must be > 0"),
    ("simulation_size", "15", "simulation_size must be an even integer"),
    ("output_size", "32", "output_size must be ≤ simulation_size = 16"),
    ("viscousity", "1e-3", "unknown key 'viscousity' in bad.toml.flow"),
])
def test_bad_flow_values_are_one_line_errors(tmp_path, capsys, key, value, message):
    flow = {"simulation_size": "16", "output_size": "8", key: value}
    path = tmp_path / "bad.toml"
    path.write_text("[flow]\n" + "".join(f"{k} = {v}\n" for k, v in flow.items()))
    code = main(["simulate", str(path), "--out", str(tmp_path / "o.zarr")])
    assert message in _one_line_error(capsys, code)
    assert not (tmp_path / "o.zarr").exists()


def test_other_user_errors_are_one_line(tmp_path, config, fake, capsys):
    (tmp_path / "extra.toml").write_text(TINY + "\n[solver]\nsteps = 3\n")
    code = main(["simulate", str(tmp_path / "extra.toml"), "--out", str(tmp_path / "o.zarr")])
    assert "unknown key 'solver' in extra.toml" in _one_line_error(capsys, code)

    code = main(["simulate", str(tmp_path / "absent.toml"), "--out", str(tmp_path / "o.zarr")])
    assert "config file not found" in _one_line_error(capsys, code)

    (tmp_path / "a_file").write_text("")
    code = main(["simulate", str(config), "--out", str(tmp_path / "a_file" / "o.zarr")])
    assert "cannot create" in _one_line_error(capsys, code)

    (tmp_path / "notes").mkdir()
    code = main(["simulate", str(config), "--out", str(tmp_path / "notes")])
    assert "not a zarr store" in _one_line_error(capsys, code)

    code = main(["simulate", str(config), "--out", str(tmp_path / "o.zarr"), "--samples", "0"])
    assert "num_samples must be ≥ 1" in _one_line_error(capsys, code)

    code = main(["simulate", str(config), "--out", str(tmp_path / "o.zarr"),
                 "--batch-size", "0"])
    assert "batch_size must be an integer ≥ 1" in _one_line_error(capsys, code)
    assert fake.calls == []


def test_real_solver_end_to_end(tmp_path, capsys):
    solver = pytest.importorskip("rollflow.solver", reason="rollflow.solver not available")
    if not hasattr(solver, "simulate"):
        pytest.skip("rollflow.solver.simulate is not implemented yet")
    path = tmp_path / "tiny.toml"
    path.write_text("[flow]\nsimulation_size = 32\noutput_size = 16\nwarmup_time = 0.4\n"
                    "num_frames = 3\nnum_samples = 2\n")
    out = tmp_path / "tiny.zarr"
    assert main(["simulate", str(path), "--out", str(out), "--quiet"]) == 0
    with open_trajectories(out) as ds:
        values = ds.vorticity.values
    assert values.shape == (2, 3, 16, 16) and np.isfinite(values).all()
    assert values.std() > 0.1 and not np.allclose(values[0], values[1])
    assert main(["info", str(out)]) == 0
    assert "2 of 2 complete" in capsys.readouterr().out


def test_ctrl_c_keeps_finished_batches(tmp_path, config, monkeypatch, make_fake_solver, capsys):
    solver = make_fake_solver(interrupt_on_call=2)
    monkeypatch.setattr("rollflow.generate.serial.default_simulate", lambda: solver)
    out = tmp_path / "run.zarr"
    code = main(["simulate", str(config), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 130 and err.count("\n") == 1 and "re-run the same command" in err
    np.testing.assert_array_equal(completed_samples(out), [True, True, False])


def test_sigterm_keeps_finished_batches_and_exits_143(tmp_path, config, monkeypatch,
                                                      make_fake_solver, capsys):
    """Bug: `simulate` started with `nohup … &` ignores SIGINT and had no SIGTERM handling;
    now SIGTERM acts like Ctrl-C (the batch in flight is dropped) and exits 143."""
    import os
    import signal

    from rollflow.store import completed_samples

    solver = make_fake_solver()

    def killed_on_second_call(spec, sample_indices, *, progress=None):
        if len(solver.calls) == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        return solver(spec, sample_indices, progress=progress)

    monkeypatch.setattr("rollflow.generate.serial.default_simulate", lambda: killed_on_second_call)
    out = tmp_path / "run.zarr"
    code = main(["simulate", str(config), "--out", str(out), "--quiet"])
    assert code == 143
    assert "terminated (SIGTERM); finished work is kept" in capsys.readouterr().err
    assert completed_samples(out).tolist() == [True, True, False]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL   # handler restored


def test_full_disk_is_one_line(tmp_path, config, fake, monkeypatch, capsys):
    """Bug: ENOSPC during `simulate` ended in a raw OSError traceback; then it exited 1
    where the docs say 2 (issue 15): one exit status per kind of failure."""
    import errno

    from rollflow.store import completed_samples

    calls = []

    def full_after_first(path, values, start, checks=None):
        calls.append(start)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return original(path, values, start, checks)

    import rollflow.generate.serial as generate
    original = generate.store.write_samples
    monkeypatch.setattr(generate.store, "write_samples", full_after_first)
    out = tmp_path / "run.zarr"
    code = main(["simulate", str(config), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0] == f"rollflow simulate: error: No space left on device: {out}"
    assert completed_samples(out).tolist() == [True, True, False]   # the store stays consistent


@pytest.mark.parametrize("key, value, message", [
    ("max_velocity", "1e6", "1018592 solver steps per frame"),
    ("simulation_size", "4096", "refusing a run of ≈"),
])
def test_absurd_cost_is_refused_unless_forced(tmp_path, config, fake, capsys, key, value,
                                              message):
    """Bug: max_velocity = 1e6 (millions of steps per frame) started silently."""
    text = config.read_text().replace("[generation]", f"[generation]\n").splitlines()
    edited = [line for line in text if not line.startswith(f"{key} =")]
    edited.insert(edited.index("[flow]") + 1, f"{key} = {value}")
    config.write_text("\n".join(edited) + "\n")
    code = main(["simulate", str(config), "--out", str(tmp_path / "x.zarr")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0] and "--force" in err[0]
    assert not (tmp_path / "x.zarr").exists() and fake.calls == []


def test_the_estimate_is_printed_before_simulating(tmp_path, config, fake, capsys):
    assert main(["simulate", str(config), "--out", str(tmp_path / "x.zarr")]) == 0
    first = capsys.readouterr().err.strip().splitlines()[0]
    assert first.startswith("8 solver steps per frame") and "3 trajectories to simulate" in first


def test_estimate_matches_the_measured_kf32_generation():
    from rollflow.generate import estimate_seconds, load_simulation_config

    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    flow = load_simulation_config(root / "experiments" / "kf32" / "train.toml").flow
    assert 0.5 * 2225 < estimate_seconds(flow) < 2 * 2225     # measured 2225 s, 2026-12-01


@pytest.mark.slow
def test_sigterm_is_heard_within_seconds_on_a_large_grid(tmp_path):
    """Bug (issue 15): SIGTERM took 31 s to act at 512² (heard only between solver chunks)
    and none at 4096² within 35 s. The main thread now waits for a chunk in short polls;
    the process leaves with 143 and without the abort a normal shutdown would cause while
    XLA still computes."""
    import subprocess
    import sys
    import time

    config = tmp_path / "big.toml"
    config.write_text("[flow]\nsimulation_size = 512\noutput_size = 32\nwarmup_time = 10.0\n"
                      "num_frames = 5\nnum_samples = 1\n")
    proc = subprocess.Popen([sys.executable, "-m", "rollflow", "simulate", str(config),
                             "--out", str(tmp_path / "big.zarr"), "--force"],
                            stderr=subprocess.PIPE, text=True)
    time.sleep(20)                                 # imports, compilation, into the warm-up
    assert proc.poll() is None
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert time.perf_counter() - start < 5.0       # polls every 0.2 s; a busy CPU adds
    assert proc.returncode == 143, err[-2000:]
    assert "terminated (SIGTERM)" in err and "Aborted" not in err
