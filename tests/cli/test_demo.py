"""End to end on a tiny config: `rollflow demo`, then `forecast` and `evaluate` on its
outputs. Checks what a newcomer relies on: every stage's artifacts exist, the summary
prints, a re-run resumes instead of redoing work, and the CLI outputs are well formed."""

import re
from pathlib import Path

import numpy as np
import pytest

from rollflow.cli import main

TINY = """
[test]
simulation_size = 32
output_size = 16
warmup_time = 0.4
num_frames = 10
num_samples = 2
seed = 50

[forecast]
model = "tiny-rolling"
members = 2
frames = 4
batch_size = 2

[solvers]
resolutions = [16, 32]

[truth]
simulation_size = 32
output_size = 16
warmup_time = 0.4
num_frames = 14
num_samples = 3
seed = 0

[train]
seed = 0
[train.diffusion]
mode = "rolling"
num_context = 2
window_size = 2
steps_per_shift = 2
[train.net]
window_encoding = "channels"
base_channels = 8
channel_multipliers = [1, 2]
embedding_dim = 16
attention_heads = 2
norm_groups = 4
[train.optim]
total_steps = 4
warmup_steps = 1
batch_size = 2
[train.intervals]
log_every = 2
validate_every = 2
checkpoint_every = 2
validation_batches = 1
[train.data]
num_validation_samples = 1
[train.runtime]
device = "cpu"
num_threads = 1
"""


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    """`rollflow demo --train`: simulate, train, forecast with the own run, solvers, scores."""
    tmp = tmp_path_factory.mktemp("demo")
    config = tmp / "tiny.toml"
    config.write_text(TINY)
    out = tmp / "out"
    assert main(["demo", "--config", str(config), "--out", str(out), "--train"]) == 0
    return config, out


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    import rollflow.training.shipped as shipped

    monkeypatch.setattr(shipped, "WEIGHTS_DIR", tmp_path / "weights")
    return tmp_path / "weights"


def test_demo_produces_every_stage(demo_dir, capsys):
    _, out = demo_dir
    for name in ("train.zarr", "test.zarr", "run/metrics.jsonl", "run/loss.png",
                 "forecast.zarr", "solver_16.zarr", "solver_32.zarr",
                 "figures/correlation.png", "figures/spectrum.png", "figures/spread_skill.png",
                 "figures/vorticity.png", "figures/correlation_vs_solver.png"):
        assert (out / name).exists(), name


def test_demo_rerun_resumes_without_retraining(demo_dir, capsys):
    config, out = demo_dir
    checkpoints = sorted((out / "run" / "checkpoints").glob("*.json"))
    stamps = {p: p.stat().st_mtime_ns for p in [*checkpoints, out / "forecast.zarr"]}
    assert main(["demo", "--config", str(config), "--out", str(out), "--train"]) == 0
    captured = capsys.readouterr()
    assert "reusing" in captured.err
    printed = captured.out
    assert re.search(r"T0.8 ensemble mean \(t.u.\) \[95% CI\] +\S", printed)
    assert "solver 16²" in printed and "solver 32²" in printed
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_demo_forecasts_with_a_shipped_model(demo_dir, weights_dir, tmp_path, capsys):
    from rollflow.store import open_trajectories
    from rollflow.training.shipped import export_model

    config, out = demo_dir
    export_model(out / "run", "tiny-rolling")
    fresh = tmp_path / "fresh"
    assert main(["demo", "--config", str(config), "--out", str(fresh)]) == 0
    assert not (fresh / "run").exists() and not (fresh / "train.zarr").exists()
    kept = open_trajectories(fresh / "forecast.zarr", validate=False)
    assert kept.attrs["forecast_model"] == "tiny-rolling"
    assert "model (tiny-rolling)" in capsys.readouterr().out


def test_unknown_model_name_is_one_line(demo_dir, weights_dir, tmp_path, capsys):
    config, out = demo_dir
    code = main(["forecast", "kf99-nope", "--data", str(out / "test.zarr"),
                 "--out", str(tmp_path / "x.zarr")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "no shipped model named 'kf99-nope' (shipped: none)" in err[0]


def test_forecast_and_evaluate_commands(demo_dir, tmp_path, capsys):
    from rollflow.store import open_trajectories

    _, out = demo_dir
    fc = tmp_path / "fc.nc"
    assert main(["forecast", str(out / "run"), "--data", str(out / "test.zarr"),
                 "--out", str(fc), "--members", "3", "--frames", "5", "--seed", "1"]) == 0
    ds = open_trajectories(fc, validate=False)
    assert ds.vorticity.dims == ("sample", "member", "time", "x", "y")
    assert ds.vorticity.shape == (2, 3, 5, 16, 16)
    assert np.isfinite(ds.vorticity.values).all()
    assert ds.attrs["flow_output_size"] == 16 and ds.attrs["forecast_seed"] == 1
    ds.close()
    capsys.readouterr()
    metrics = tmp_path / "metrics.zarr"
    assert main(["evaluate", str(fc), "--truth", str(out / "test.zarr"),
                 "--out", str(metrics), "--figures", str(tmp_path / "figs")]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"decorrelation time \(ρ < 0.80\), ensemble mean: ", printed)
    assert (tmp_path / "figs" / "spread_skill.png").exists()
    scores = open_trajectories(metrics, validate=False)
    assert set(scores.correlation.dims) == {"sample", "member", "time"}


def test_grid_mismatch_is_a_one_line_error(demo_dir, tmp_path, capsys):
    from rollflow.specs import FlowSpec
    from rollflow.store import save_dataset, trajectories_to_dataset

    _, out = demo_dir
    spec = FlowSpec(simulation_size=16, output_size=8, num_frames=6, num_samples=1)
    other = tmp_path / "other.zarr"
    save_dataset(trajectories_to_dataset(np.zeros((1, 6, 8, 8), np.float32), spec), other)
    code = main(["forecast", str(out / "run"), "--data", str(other), "--out",
                 str(tmp_path / "x.zarr")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "8×8 grid but the model was trained on 16×16" in err[0]


def test_evaluate_refuses_a_foreign_store(tmp_path, capsys):
    bogus = tmp_path / "bogus.nc"
    bogus.write_bytes(b"not netcdf")
    assert main(["evaluate", str(bogus), "--truth", str(bogus)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]


def test_forecast_of_missing_samples_is_one_line(demo_dir, tmp_path, capsys):
    """Bug: `forecast --samples 7` on a 2-sample store ended in a KeyError traceback."""
    _, out = demo_dir
    code = main(["forecast", str(out / "run"), "--data", str(out / "test.zarr"),
                 "--out", str(tmp_path / "x.zarr"), "--samples", "0", "7"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "has no sample(s) [7]" in err[0]


def test_evaluate_against_a_truth_that_does_not_cover_the_forecast(demo_dir, tmp_path, capsys):
    """Issue 16: a rollout longer than the truth, asked to be scored frame by frame, is
    refused in one line that says why and what to do instead."""
    _, out = demo_dir
    fc = tmp_path / "long.zarr"
    assert main(["forecast", str(out / "run"), "--data", str(out / "test.zarr"),
                 "--out", str(fc), "--members", "2", "--frames", "20"]) == 0
    capsys.readouterr()
    code = main(["evaluate", str(fc), "--truth", str(out / "test.zarr")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "past the truth's last frame" in err[0]
    assert "cannot be scored frame by frame" in err[0]


def test_a_changed_forecast_plan_is_not_served_the_old_forecast(demo_dir, capsys):
    """The kept forecast is reused only for the same model and forecast settings: with
    another member count the demo forecasts again (it reused the old one before)."""
    from rollflow.store import open_trajectories

    config, out = demo_dir
    changed = config.with_name("tiny_members.toml")
    changed.write_text(config.read_text().replace("members = 2", "members = 3"))
    assert "members = 3" in changed.read_text()
    assert main(["demo", "--config", str(changed), "--out", str(out), "--train"]) == 0
    assert "reusing" not in capsys.readouterr().err
    assert open_trajectories(out / "forecast.zarr", validate=False).sizes["member"] == 3


def test_a_reshipped_model_of_the_same_name_is_not_served_the_old_forecast(
        demo_dir, weights_dir, tmp_path, capsys):
    """Same name, step and plan, other weights (here the same EMA stored as bf16 instead of
    fp16): the kept forecast was reused before the plan carried the weights' fingerprint."""
    import torch

    from rollflow.training.shipped import export_model

    config, out = demo_dir
    fresh = tmp_path / "fresh"
    export_model(out / "run", "tiny-rolling")
    assert main(["demo", "--config", str(config), "--out", str(fresh)]) == 0
    capsys.readouterr()
    export_model(out / "run", "tiny-rolling", dtype=torch.bfloat16)
    assert main(["demo", "--config", str(config), "--out", str(fresh)]) == 0
    assert "reusing" not in capsys.readouterr().err
    assert main(["demo", "--config", str(config), "--out", str(fresh)]) == 0
    assert "reusing" in capsys.readouterr().err


def test_forecast_context_noise_from_the_command_line(demo_dir, tmp_path, capsys):
    """`--context-noise EPS` perturbs members 1… (recorded in the attrs; member 0 is the
    plain forecast's, bit for bit); a negative EPS is a one-line usage error."""
    from rollflow.store import open_trajectories

    _, out = demo_dir
    args = ["forecast", str(out / "run"), "--data", str(out / "test.zarr"), "--members", "2",
            "--frames", "3"]
    assert main([*args, "--out", str(tmp_path / "plain.zarr")]) == 0
    assert main([*args, "--out", str(tmp_path / "ic.zarr"), "--context-noise", "0.05"]) == 0
    plain = open_trajectories(tmp_path / "plain.zarr", validate=False)
    ic = open_trajectories(tmp_path / "ic.zarr", validate=False)
    assert ic.attrs["forecast_context_noise"] == 0.05
    np.testing.assert_array_equal(ic.vorticity.isel(member=0).values,
                                  plain.vorticity.isel(member=0).values)
    assert not np.array_equal(ic.vorticity.isel(member=1).values,
                              plain.vorticity.isel(member=1).values)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--out", str(tmp_path / "bad.zarr"), "--context-noise", "-0.1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and "must be a finite number ≥ 0.0" in err[-1]
