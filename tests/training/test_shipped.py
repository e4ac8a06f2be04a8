"""Shipped models: export from a run, load by name (float16 weights, sha256 checked),
the one-line error for an unknown name, and the run-config check for run directories."""

import json

import pytest
import torch

import rollflow.training.shipped as shipped
from rollflow.cli import main
from rollflow.errors import CheckpointError
from rollflow.training import load_trained, train

from training_fixtures import tiny_config


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    directory = tmp_path / "weights"
    monkeypatch.setattr(shipped, "WEIGHTS_DIR", directory)
    return directory


@pytest.fixture
def run_dir(store, tmp_path):
    run = tmp_path / "run"
    list(train(tiny_config("rolling"), store, run, stop_at=4))
    return run


def _outputs(model, seed=0):
    gen = torch.Generator().manual_seed(seed)
    frames = model.config.num_frames
    x = torch.randn(2, frames, 16, 16, generator=gen)
    log_snr = torch.linspace(-5, 5, frames).expand(2, frames)
    is_context = torch.zeros(2, frames, dtype=torch.bool)
    is_context[:, 0] = True
    with torch.no_grad():
        return model.network(x, log_snr, is_context)


def test_export_and_load_by_name(run_dir, weights_dir, capsys):
    shipped.export_model(run_dir, "tiny-rolling", card={"cpu_hours": 0.01})
    assert shipped.shipped_models() == ["tiny-rolling"]
    by_name, by_run = load_trained("tiny-rolling"), load_trained(run_dir)
    assert by_name.step == by_run.step and by_name.stats == by_run.stats
    assert by_name.grid_size == 16
    # float16 storage: the same network up to half-precision rounding of the weights
    torch.testing.assert_close(_outputs(by_name), _outputs(by_run), atol=2e-2, rtol=2e-2)
    size = (weights_dir / "tiny-rolling.safetensors").stat().st_size
    params = sum(p.numel() for p in by_run.network.parameters())
    assert size < 2.2 * params + 50_000                     # 2 bytes per weight + header
    assert main(["models"]) == 0
    assert "tiny-rolling: rolling, 16² grid, 4 steps, 0.0 CPU-h" in capsys.readouterr().out


def test_unknown_name_lists_the_shipped_ones(run_dir, weights_dir):
    shipped.export_model(run_dir, "tiny-rolling")
    with pytest.raises(CheckpointError, match=r"no shipped model named 'kf99' "
                                              r"\(shipped: tiny-rolling\)"):
        load_trained("kf99")


def test_corrupted_weights_are_refused(run_dir, weights_dir):
    shipped.export_model(run_dir, "tiny-rolling")
    path = weights_dir / "tiny-rolling.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        load_trained("tiny-rolling")


def test_checkpoint_of_another_config_in_a_run_dir_is_refused(store, run_dir, tmp_path):
    """A checkpoint dropped into a run directory whose config.json says otherwise."""
    other = tmp_path / "other"
    list(train(tiny_config("rolling").replace(seed=11), store, other, stop_at=4))
    (run_dir / "config.json").write_text((other / "config.json").read_text())
    with pytest.raises(CheckpointError, match="different config"):
        load_trained(run_dir)
    assert json.loads((other / "config.json").read_text())["seed"] == 11


def test_an_interrupted_export_leaves_the_shipped_model_whole(run_dir, weights_dir,
                                                             monkeypatch):
    """An export stopped after its tensors were written (here: while checksumming them)
    leaves the model already under that name byte for byte, and it still loads."""
    shipped.export_model(run_dir, "tiny-rolling")
    before = {p.name: p.read_bytes() for p in weights_dir.iterdir()}

    def interrupted(path):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(shipped, "_sha256", interrupted)
        shipped.export_model(run_dir, "tiny-rolling", dtype=torch.float32)
    after = {p.name: p.read_bytes() for p in weights_dir.iterdir() if not p.name.startswith(".")}
    assert after == before
    assert load_trained("tiny-rolling").step == load_trained(run_dir).step


def test_a_tensor_file_given_as_model_loads_its_checkpoint_or_card(run_dir, weights_dir):
    """Bug (issue 15): a checkpoint's .safetensors given as MODEL got a misleading
    "unreadable metadata"; it now loads the checkpoint it belongs to (or the shipped card)."""
    from rollflow.training import latest_checkpoint

    tensors = latest_checkpoint(run_dir).with_suffix(".safetensors")
    by_tensors, by_run = load_trained(tensors), load_trained(run_dir)
    assert by_tensors.step == by_run.step
    torch.testing.assert_close(_outputs(by_tensors), _outputs(by_run), rtol=0, atol=0)
    shipped.export_model(run_dir, "tiny", directory=weights_dir)
    assert load_trained(weights_dir / "tiny.safetensors").step == by_run.step
    lonely = tensors.parent.parent / "lonely.safetensors"
    lonely.write_bytes(tensors.read_bytes())
    with pytest.raises(CheckpointError, match="without its lonely.json"):
        load_trained(lonely)


def test_newer_formats_are_one_line(run_dir, weights_dir):
    from rollflow.training import latest_checkpoint, load_checkpoint

    meta_path = latest_checkpoint(run_dir)
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "version": 99}))
    with pytest.raises(CheckpointError, match="newer rollflow.*version 99.*upgrade") as err:
        load_checkpoint(meta_path)
    assert "\n" not in str(err.value)
    meta_path.write_text(json.dumps(meta))
    card = shipped.export_model(run_dir, "tiny", directory=weights_dir)
    card.write_text(json.dumps({**json.loads(card.read_text()), "version": 7}))
    with pytest.raises(CheckpointError, match="newer rollflow.*version 7"):
        shipped.read_model_card("tiny", weights_dir)


def test_a_new_card_keeps_the_weights_and_their_checksum(run_dir, weights_dir):
    """recard_model replaces the card only: the tensor file is byte for byte the same, the
    checksum in the JSON still matches it and the model still loads."""
    shipped.export_model(run_dir, "tiny-rolling", card={"cpu_hours": 0.01})
    weights = (weights_dir / "tiny-rolling.safetensors").read_bytes()
    shipped.recard_model("tiny-rolling", {"cpu_hours": 0.01, "symmetry_members": True})
    meta = shipped.read_model_card("tiny-rolling")
    assert meta["card"] == {"cpu_hours": 0.01, "symmetry_members": True}
    assert (weights_dir / "tiny-rolling.safetensors").read_bytes() == weights
    assert load_trained("tiny-rolling").step == load_trained(run_dir).step
    assert not list(weights_dir.glob(".*.partial")) and not list(weights_dir.glob("*.tmp"))


def test_a_released_model_comes_back_from_git_history(run_dir, tmp_path):
    """A model shipped, then given another card under the same name: released_model at the
    first commit restores the first files (card and all), which load as the run's model."""
    import subprocess

    repo = tmp_path / "repo"
    weights = repo / "rollflow" / "weights"
    git = lambda *a: subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *a],
                                    cwd=repo, check=True, capture_output=True).stdout
    weights.mkdir(parents=True)
    git("init", "-q")
    shipped.export_model(run_dir, "tiny-rolling", card={"note": "first"}, directory=weights)
    git("add", ".")
    git("commit", "-qm", "first")
    first = git("rev-parse", "--short", "HEAD").decode().strip()
    shipped.recard_model("tiny-rolling", {"note": "second"}, directory=weights)
    git("commit", "-qam", "second")
    path = shipped.released_model(first, "tiny-rolling", tmp_path / "old", root=repo)
    assert path.name == f"tiny-rolling@{first}.safetensors"
    assert shipped.read_model_card(path.stem, tmp_path / "old")["card"] == {"note": "first"}
    assert load_trained(path).step == load_trained(run_dir).step
    with pytest.raises(FileNotFoundError, match="no rollflow/weights/absent.json"):
        shipped.released_model(first, "absent", tmp_path / "old", root=repo)


def test_cpu_hours_by_stage_of_a_run_and_of_a_shipped_card(run_dir, weights_dir):
    from rollflow.training import latest_progress

    seconds = latest_progress(run_dir)[1]["cpu_seconds"]
    assert seconds > 0
    assert shipped.cpu_hours_by_stage(run_dir) == {"training": seconds / 3600}
    stages = {"data": 2.5, "teacher": 3.5}
    shipped.export_model(run_dir, "tiny-rolling", card={"cpu_hours_by_stage": stages})
    assert shipped.cpu_hours_by_stage("tiny-rolling") == stages
    shipped.export_model(run_dir, "tiny-bare")
    assert shipped.cpu_hours_by_stage("tiny-bare") == {}


def test_cpu_hours_of_a_warm_started_run_include_its_sources(run_dir, weights_dir, tmp_path):
    import shutil

    from rollflow.training import latest_progress

    own = latest_progress(run_dir)[1]["cpu_seconds"] / 3600
    shipped.export_model(run_dir, "tiny-rolling", card={"cpu_hours_by_stage": {"data": 2.5}})
    chain = []
    for name, source in (("tuned", "tiny-rolling"), ("tuned_more", str(tmp_path / "tuned"))):
        shutil.copytree(run_dir, tmp_path / name)
        config = json.loads((tmp_path / name / "config.json").read_text())
        config["init"] = {**config.get("init", {}), "weights": source}
        (tmp_path / name / "config.json").write_text(json.dumps(config))
        chain.append(tmp_path / name)
    assert shipped.cpu_hours_by_stage(chain[1]) == {
        f"{chain[0]} tiny-rolling data": 2.5, f"{chain[0]} training": own, "training": own}
