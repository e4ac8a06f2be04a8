"""`rollflow train`: end to end on a tiny store, refusals, resume."""

import json

import numpy as np
import pytest

from rollflow.cli import main
from rollflow.specs import FlowSpec
from rollflow.store import save_dataset, trajectories_to_dataset

TOML = """
seed = 1
[diffusion]
mode = "rolling"
num_context = 1
window_size = 2
[net]
base_channels = 8
channel_multipliers = [1, 2]
embedding_dim = 16
attention_heads = 2
norm_groups = 4
mid_attention = false
[optim]
lr = 1e-3
warmup_steps = 1
total_steps = 6
batch_size = 2
[intervals]
log_every = 1
validate_every = 2
validation_batches = 1
checkpoint_every = 2
[runtime]
device = "cpu"
num_threads = 1
"""


@pytest.fixture
def setup(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TOML)
    spec = FlowSpec(simulation_size=16, output_size=16, num_frames=8, num_samples=3,
                    warmup_time=0.0)
    noise = np.random.default_rng(0).standard_normal((3, 8, 16, 16)).astype(np.float32)
    store = tmp_path / "tiny.zarr"
    save_dataset(trajectories_to_dataset(noise, spec), store)
    return config, store, tmp_path / "run"


def _run(config, store, out, *extra):
    return main(["train", str(config), "--data", str(store), "--out", str(out), *extra])


def test_train_then_resume(setup, capsys):
    config, store, out = setup
    assert _run(config, store, out, "--steps", "3") == 0
    assert (out / "loss.png").is_file() and (out / "checkpoints" / "step_00000003.json").is_file()
    assert _run(config, store, out) == 2
    assert "not empty; pass --resume" in capsys.readouterr().err
    assert _run(config, store, out, "--resume") == 0
    steps = [json.loads(line)["step"] for line in open(out / "metrics.jsonl")]
    assert max(steps) == 6 and (out / "checkpoints" / "step_00000006.json").is_file()


def test_unknown_key_is_a_one_line_error(setup, capsys):
    config, store, out = setup
    config.write_text(TOML.replace("batch_size = 2", "batch_sise = 2"))
    assert _run(config, store, out) == 2
    err = capsys.readouterr().err
    assert "unknown key 'batch_sise'" in err and "optim" in err and "Traceback" not in err
    assert not out.exists()


def test_grid_mismatch_is_a_one_line_error(setup, capsys):
    config, store, out = setup
    config.write_text(TOML.replace("[data]", "") + "[data]\ngrid_size = 32\n")
    assert _run(config, store, out) == 2
    assert "built for 32×32" in capsys.readouterr().err


def _tree_bytes(path):
    """Every file under `path` with its bytes (a store compared before and after)."""
    return {p.relative_to(path): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_outputs_never_destroy_inputs(setup, capsys):
    """Bug (issue 15): `forecast … --data T.zarr --out T.zarr --overwrite` replaced the
    truth with a one-frame forecast, and the refusal without --overwrite recommended it.
    Every writing command now refuses an output that is (or contains, or lies inside) an
    input, whatever the flags; the input is byte for byte unchanged."""
    config, store, out = setup
    assert _run(config, store, out, "--steps", "2") == 0
    before = _tree_bytes(store)
    flow = store.parent / "flow.toml"
    flow.write_text("[flow]\nsimulation_size = 16\noutput_size = 16\nnum_frames = 4\n"
                    "num_samples = 1\nwarmup_time = 0.0\n")
    capsys.readouterr()
    commands = [
        ["forecast", str(out), "--data", str(store), "--out", str(store), "--overwrite",
         "--frames", "1"],
        ["forecast", str(out), "--data", str(store), "--out", str(store / "inner.zarr")],
        ["baseline", str(store), "--resolution", "16", "--out", str(store)],
        ["evaluate", str(store), "--truth", str(store), "--out", str(store), "--overwrite"],
        ["plot", str(store), "--kind", "spectrum", "--out", str(store / "fig.png")],
        ["simulate", str(flow), "--out", str(flow), "--overwrite"],
        ["train", str(config), "--data", str(store), "--out", str(store), "--resume"],
    ]
    for argv in commands:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert "the input" in err and "--overwrite" not in err and "\n" not in err, err
    assert _tree_bytes(store) == before
    assert config.read_text() == TOML and flow.read_text().startswith("[flow]")
