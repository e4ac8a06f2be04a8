"""The training loop: it learns, resumes bit-identically, survives Ctrl-C, logs and plots."""

import dataclasses
import json
import signal

import pytest
import torch
from safetensors.torch import load_file

from rollflow.errors import CheckpointError, DataError
from rollflow.training import (DataConfig, IntervalsConfig, latest_checkpoint, learning_rate,
                               load_checkpoint, load_trained, train)

from training_fixtures import TINY_NET, tiny_config, travelling_waves, write_store


def _tensors(run_dir):
    path = latest_checkpoint(run_dir)
    return load_checkpoint(path).step, load_file(str(path.with_suffix(".safetensors")))


def _assert_identical(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def _dropout_config():
    net = dataclasses.replace(TINY_NET, dropout=0.2)
    return tiny_config("rolling").replace(net=net)


def test_overfits_one_short_trajectory(tmp_path):
    store = write_store(tmp_path / "one.zarr", travelling_waves(1, 12, 16))
    config = tiny_config("deterministic", total_steps=60, lr=3e-3, warmup_steps=5).replace(
        data=DataConfig(num_validation_samples=0),
        intervals=IntervalsConfig(log_every=5, validate_every=0, checkpoint_every=1000))
    losses = [m["loss"] for m in train(config, store, tmp_path / "run") if m["kind"] == "step"]
    assert len(losses) == 60
    assert losses[-1] < losses[0] / 10, (losses[0], losses[-1])


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """(store, run dir) of a 12-step rolling run with dropout, never interrupted."""
    root = tmp_path_factory.mktemp("uninterrupted")
    store = write_store(root / "tiny.zarr", travelling_waves(3, 12, 16))
    records = list(train(_dropout_config(), store, root / "full"))
    assert records[-1]["kind"] == "done" and records[-1]["step"] == 12
    return store, root / "full"


def _val_losses(run_dir):
    records = map(json.loads, open(run_dir / "metrics.jsonl"))
    return [r["val_loss"] for r in records if r["kind"] == "validation"]


def test_resume_is_bit_identical(uninterrupted, tmp_path):
    store, full = uninterrupted
    config = _dropout_config()
    list(train(config, store, tmp_path / "split", stop_at=5))
    assert _tensors(tmp_path / "split")[0] == 5
    list(train(config, store, tmp_path / "split", resume=True))
    step_a, full_tensors = _tensors(full)
    step_b, split_tensors = _tensors(tmp_path / "split")
    assert step_a == step_b == 12
    _assert_identical(full_tensors, split_tensors)
    assert _val_losses(full) == _val_losses(tmp_path / "split")
    assert (tmp_path / "split" / "loss.png").stat().st_size > 1000


def test_ctrl_c_checkpoints_the_current_step(uninterrupted, tmp_path):
    store, full = uninterrupted
    config = _dropout_config()
    with pytest.raises(KeyboardInterrupt):
        for record in train(config, store, tmp_path / "cut"):
            if record["kind"] == "step" and record["step"] == 6:
                signal.raise_signal(signal.SIGINT)
    assert _tensors(tmp_path / "cut")[0] == 6  # no completed step is lost
    list(train(config, store, tmp_path / "cut", resume=True))
    _assert_identical(_tensors(full)[1], _tensors(tmp_path / "cut")[1])


def test_resume_rejects_foreign_and_corrupted_checkpoints(store, tmp_path):
    config = tiny_config("standard")
    run = tmp_path / "run"
    list(train(config, store, run, stop_at=4))
    other = config.replace(seed=config.seed + 1)
    with pytest.raises(CheckpointError, match="different config"):
        train(other, store, run, resume=True)
    path = latest_checkpoint(run)
    weights = path.with_suffix(".safetensors")
    blob = bytearray(weights.read_bytes())
    blob[-3] ^= 0xFF
    weights.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match="sha256"):
        train(config, store, run, resume=True)
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, "format": "someone-elses-model"}))
    with pytest.raises(CheckpointError, match="not a rollflow checkpoint"):
        load_trained(run)
    path.write_text("{not json")
    with pytest.raises(CheckpointError, match="unreadable"):
        train(config, store, run, resume=True)


def test_refuses_non_empty_run_dir_and_mismatched_grid(store, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="not empty"):
        train(tiny_config(), store, run)
    config = tiny_config().replace(data=DataConfig(grid_size=32))
    with pytest.raises(DataError, match="16×16 but the model is built for 32×32"):
        train(config, store, tmp_path / "other")


def test_too_few_frames_for_the_window(tmp_path):
    store = write_store(tmp_path / "short.zarr", travelling_waves(2, 2, 16))
    with pytest.raises(DataError, match="2 frames per sample.*= 3 frames"):
        train(tiny_config(), store, tmp_path / "run")


def test_trained_model_loads_with_ema_weights_and_stats(store, tmp_path):
    list(train(tiny_config("deterministic", total_steps=4), store, tmp_path / "run"))
    model = load_trained(tmp_path / "run")
    assert model.step == 4 and model.grid_size == 16 and not model.network.training
    assert model.stats.std > 0
    omega = torch.randn(3, 16, 16)
    torch.testing.assert_close(model.denormalise(model.normalise(omega)), omega)
    lines = [json.loads(line) for line in open(tmp_path / "run" / "metrics.jsonl")]
    assert {"train", "validation"} <= {r["kind"] for r in lines}


def test_learning_rate_schedule():
    optim = tiny_config(total_steps=100, warmup_steps=10, lr=1.0).optim
    assert learning_rate(optim, 0) == pytest.approx(0.1)
    assert learning_rate(optim, 9) == pytest.approx(1.0)
    assert learning_rate(optim, 55) == pytest.approx(0.5)
    assert learning_rate(optim, 100) == pytest.approx(0.0, abs=1e-12)


def test_sigterm_checkpoints_like_ctrl_c(uninterrupted, tmp_path):
    """A background run killed with SIGTERM (session end, `kill`) keeps its last step."""
    store, full = uninterrupted
    config = _dropout_config()
    with pytest.raises(KeyboardInterrupt):
        for record in train(config, store, tmp_path / "term"):
            if record["kind"] == "step" and record["step"] == 7:
                signal.raise_signal(signal.SIGTERM)
    assert _tensors(tmp_path / "term")[0] == 7
    list(train(config, store, tmp_path / "term", resume=True))
    _assert_identical(_tensors(full)[1], _tensors(tmp_path / "term")[1])


def test_cpu_time_and_samples_accumulate_across_resume(store, tmp_path):
    config = tiny_config("rolling")
    run = tmp_path / "run"
    list(train(config, store, run, stop_at=4))
    first = load_checkpoint(latest_checkpoint(run)).info
    assert first["samples_seen"] == 4 * config.optim.batch_size and first["cpu_seconds"] > 0
    records = list(train(config, store, run, resume=True))
    last = load_checkpoint(latest_checkpoint(run)).info
    assert last["samples_seen"] == 12 * config.optim.batch_size
    assert last["cpu_seconds"] > first["cpu_seconds"]
    logged = [r for r in records if r["kind"] == "train"]
    assert logged[0]["cpu_seconds"] >= first["cpu_seconds"]
    assert [r["samples_seen"] for r in logged] == sorted(r["samples_seen"] for r in logged)


def test_num_train_samples_limits_the_training_set(tmp_path):
    store = write_store(tmp_path / "four.zarr", travelling_waves(4, 12, 16))
    base = tiny_config("rolling")
    first = next(train(base, store, tmp_path / "all"))
    limited = base.replace(data=DataConfig(num_validation_samples=1, num_train_samples=1))
    one = next(train(limited, store, tmp_path / "one"))
    assert first["train_windows"] == 3 * one["train_windows"]
    with pytest.raises(DataError, match="num_train_samples = 5"):
        train(base.replace(data=DataConfig(num_validation_samples=1, num_train_samples=5)),
              store, tmp_path / "five")


def _augmented_config():
    config = tiny_config("rolling", extra_ema_decays=(0.5, 0.99))
    return config.replace(data=DataConfig(num_validation_samples=1, augment="group"))


def test_augmented_multi_ema_run_resumes_bit_identically(store, tmp_path):
    config = _augmented_config()
    list(train(config, store, tmp_path / "full"))
    list(train(config, store, tmp_path / "split", stop_at=5))
    list(train(config, store, tmp_path / "split", resume=True))
    step_a, full = _tensors(tmp_path / "full")
    step_b, split = _tensors(tmp_path / "split")
    assert step_a == step_b == 12
    assert {"ema@0.5", "ema@0.99"} <= {name.split("/")[0] for name in full}
    _assert_identical(full, split)
    # the augmentation changes what is learnt (same batches, same noise otherwise)
    list(train(tiny_config("rolling"), store, tmp_path / "plain"))
    plain = _tensors(tmp_path / "plain")[1]
    assert not torch.equal(plain["model/stem.weight"], full["model/stem.weight"])


def test_each_kept_ema_loads_by_its_decay(store, tmp_path):
    list(train(_augmented_config(), store, tmp_path / "run"))
    ckpt = load_checkpoint(latest_checkpoint(tmp_path / "run"))
    first = next(iter(ckpt.ema))
    chosen = {decay: load_trained(tmp_path / "run", ema_decay=decay).network.state_dict()[first]
              for decay in (None, 0.9, 0.5, 0.99)}
    torch.testing.assert_close(chosen[None], chosen[0.9], rtol=0, atol=0)
    assert not torch.equal(chosen[0.5], chosen[0.99]) and not torch.equal(chosen[0.9], chosen[0.5])
    # decay 0.5 forgets fastest: it is the closest to the raw weights
    raw = ckpt.model[first]
    assert (chosen[0.5] - raw).norm() < (chosen[0.99] - raw).norm()
    with pytest.raises(CheckpointError, match=r"no EMA with decay 0.7 \(kept: 0.9, 0.5, 0.99\)"):
        load_trained(tmp_path / "run", ema_decay=0.7)


def test_group_augmentation_needs_the_y_shift_on_the_grid(tmp_path):
    store = write_store(tmp_path / "twelve.zarr", travelling_waves(3, 12, 12))
    with pytest.raises(DataError, match="divisible by 2·k_f = 8") as err:
        train(_augmented_config(), store, tmp_path / "run")
    assert "\n" not in str(err.value)
    translations = _augmented_config().replace(
        data=DataConfig(num_validation_samples=1, augment="translations"))
    assert next(train(translations, store, tmp_path / "ok"))["kind"] == "start"


def test_a_batch_larger_than_the_training_windows_is_refused(tmp_path):
    """Bug (issue 15): a batch larger than the training set repeated the same windows
    without a word."""
    store = write_store(tmp_path / "short.zarr", travelling_waves(2, 4, 16))   # 2 windows
    with pytest.raises(DataError, match="batch_size = 4 exceeds the 2 training windows"):
        train(tiny_config("rolling"), store, tmp_path / "run")


def test_one_writer_per_run_directory(store, tmp_path):
    """Issue 15: two trainings writing one run directory interleaved their checkpoints; the
    second is refused while the first runs, and the directory is free once it ends."""
    from rollflow.errors import StoreError

    first = train(tiny_config("rolling"), store, tmp_path / "run")
    assert next(first)["kind"] == "start"
    with pytest.raises(StoreError, match=r"being written by another process \(PID"):
        train(tiny_config("rolling"), store, tmp_path / "run", resume=True)
    list(first)
    assert next(train(tiny_config("rolling"), store, tmp_path / "run", resume=True))["step"] == 12


def test_train_until_resumes_to_each_stop_and_reads_progress_without_tensors(store, tmp_path):
    from rollflow.training import latest_progress, train_until

    config = tiny_config("rolling")            # 12 steps in all
    run = tmp_path / "run"
    assert latest_progress(run) == (0, {})
    assert train_until(config, store, run, 4, show=False) == 4
    step, info = latest_progress(run)
    assert step == 4 and info == load_checkpoint(latest_checkpoint(run)).info
    assert train_until(config, store, run, 4, show=False) == 4      # already there: no step
    assert latest_progress(run)[1] == info
    assert train_until(config, store, run, show=False) == config.optim.total_steps
    assert latest_progress(run)[1]["samples_seen"] == 12 * config.optim.batch_size


def test_learning_curve_scores_each_stop_once_and_resumes(store, tmp_path):
    from rollflow.training import learning_curve, load_trained

    config = tiny_config("rolling")
    run, path, calls = tmp_path / "run", tmp_path / "curve.json", []

    def score(run_dir):
        calls.append(load_trained(run_dir).step)
        return {"T_mean": {"0.8": float(len(calls))}}

    curve = learning_curve(config, store, run, [4, 8], score, path, show=False)
    assert [e["step"] for e in curve] == [4, 8] and calls == [4, 8]
    assert curve[1]["samples_seen"] == 8 * config.optim.batch_size
    assert curve[0]["cpu_hours"] < curve[1]["cpu_hours"]
    again = learning_curve(config, store, run, [4, 8, 12], score, path, show=False)
    assert calls == [4, 8, 12] and again[:2] == curve          # scored steps are not redone
    assert json.loads(path.read_text()) == again


def test_a_preloaded_store_gives_the_run_of_the_lazy_store(store, tmp_path):
    from rollflow.training import RuntimeConfig

    runs = {}
    for limit in (0, 64):       # 0: every window read from the store; 64 MiB: all in memory
        config = tiny_config("rolling", total_steps=4).replace(
            runtime=RuntimeConfig(device="cpu", num_threads=1, preload_mib=limit))
        list(train(config, store, tmp_path / f"run{limit}"))
        runs[limit] = _tensors(tmp_path / f"run{limit}")
    assert runs[0][0] == runs[64][0] == 4
    _assert_identical(runs[0][1], runs[64][1])
