"""Data-parallel training with torchrun (gloo, 2 CPU processes): the same optimisation as
one process with the same global batch, exact resume, clean stop on SIGTERM, one-line
errors."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from rollflow.cli import main
from rollflow.diffusion import Shard
from rollflow.errors import ConfigError
from rollflow.training import latest_checkpoint, load_checkpoint
from rollflow.training.distributed import ProcessGroup

from training_fixtures import travelling_waves, write_store

CONFIG = """
seed = 3
[diffusion]
mode = "rolling"
num_context = 1
window_size = 2
init_probability = 0.25
[net]
base_channels = 8
channel_multipliers = [1, 2]
blocks_per_level = 1
embedding_dim = 16
attention_heads = 2
norm_groups = 4
mid_attention = false
[optim]
lr = 2e-3
warmup_steps = 2
total_steps = {total}
batch_size = 4
ema_decay = 0.9
[intervals]
log_every = 2
validate_every = 4
validation_batches = 1
checkpoint_every = 4
keep_checkpoints = 2
[data]
num_validation_samples = 1
[runtime]
device = "cpu"
num_threads = 1
num_workers = {workers}
precision = "{precision}"
"""


def _config(tmp_path, total=8, workers=0, precision="float32"):
    path = tmp_path / f"tiny_{total}_{workers}_{precision}.toml"
    path.write_text(CONFIG.format(total=total, workers=workers, precision=precision))
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("ddp") / "tiny.zarr",
                       travelling_waves(3, 12, 16))


def _train(config, store, out, *more, nproc=None, **popen):
    argv = [sys.executable, "-m", "rollflow", "train", str(config), "--data", str(store),
            "--out", str(out), *more]
    if nproc:
        argv += ["--nproc", str(nproc)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if popen:
        return subprocess.Popen(argv, env=env, **popen)
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _weights(run_dir):
    path = latest_checkpoint(run_dir)
    return load_checkpoint(path).step, load_file(str(path.with_suffix(".safetensors")))


@pytest.fixture(scope="module")
def one_process(store, tmp_path_factory):
    root = tmp_path_factory.mktemp("one")
    _train(_config(root, precision="float64"), store, root / "run")
    return _weights(root / "run")


def test_two_processes_take_the_one_process_steps(store, one_process, tmp_path):
    """Same global batch, same noise per window: parameters after 8 steps agree with one
    process to the round-off of float64 (only the order of additions differs).

    Why float64: AdamW divides each gradient by its own running RMS, so an element whose
    gradient is small amplifies the relative round-off of its sum. In float32 (eps 6e-8)
    that reached 5e-6 on some machines with the same code; in float64 (eps 1.1e-16) a
    gradient of n ≤ 1e5 terms differs by ≤ n·eps ≈ 1e-11 of its terms' scale, and even an
    element with |g| ~ 1e-4 of that scale moves by ≤ lr·1e-11/1e-4 = 2e-10 per step, so
    ≤ 2e-9 after 8 steps: the bound 1e-8 holds on any machine."""
    result = _train(_config(tmp_path, workers=2, precision="float64"), store,
                    tmp_path / "ddp", nproc=2)
    assert "on 2 processes" in result.stderr
    step, ddp = _weights(tmp_path / "ddp")
    one_step, one = one_process
    assert step == one_step == 8
    assert ddp.keys() == one.keys()
    for name in one:
        a, b = _without_key_bias(name, ddp[name]), _without_key_bias(name, one[name])
        assert float((a - b).abs().max()) < 1e-8, name
    # the comparison is not vacuous: training moved the weights far beyond the tolerance
    init = _weights_at_step_zero(tmp_path)
    assert max(float((one[k] - init[k]).abs().max()) for k in init) > 1e-3


def _without_key_bias(name, tensor):
    """Attention's key bias has a gradient of exactly zero in exact arithmetic (softmax
    ignores a constant shift of the scores), so AdamW turns round-off (≈ 1e-9) into
    lr-sized steps of either sign; only that third of in_proj_bias is left out."""
    if not name.endswith("in_proj_bias"):
        return tensor
    third = tensor.numel() // 3
    return torch.cat([tensor[:third], tensor[2 * third:]])


    lines = (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == len(set(lines))        # rank 0 alone logs


def _weights_at_step_zero(tmp_path):
    from rollflow.nets import build_network
    from rollflow.training import load_train_config
    from rollflow.training.data import derive_seed

    config = load_train_config(_config(tmp_path))
    torch.manual_seed(derive_seed(config.seed, "init"))
    net = build_network(config.net, config.num_frames)
    return {f"model/{k}": v for k, v in net.state_dict().items()}


@pytest.mark.slow
def test_stopped_and_resumed_ddp_run_matches_an_uninterrupted_one(store, tmp_path):
    config = _config(tmp_path)
    _train(config, store, tmp_path / "whole", nproc=2)
    _train(config, store, tmp_path / "split", "--steps", "5", nproc=2)
    assert _weights(tmp_path / "split")[0] == 5
    _train(config, store, tmp_path / "split", "--resume", nproc=2)
    (a_step, a), (b_step, b) = _weights(tmp_path / "whole"), _weights(tmp_path / "split")
    assert a_step == b_step == 8
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.mark.slow
def test_sigterm_stops_every_rank_with_a_checkpoint(store, tmp_path):
    run = tmp_path / "long"
    proc = _train(_config(tmp_path, total=100000), store, run, nproc=2,
                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while latest_checkpoint(run) is None and time.time() < deadline:
        time.sleep(0.5)
    assert latest_checkpoint(run) is not None, "no checkpoint within 300 s"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    step = load_checkpoint(latest_checkpoint(run)).step
    assert step >= 4
    logged = max(json.loads(line)["step"] for line in
                 (run / "metrics.jsonl").read_text().splitlines())
    assert step >= logged - 2          # the stop step itself was checkpointed (log_every 2)
    assert "terminated (SIGTERM)" in err, err[-2000:]


def test_process_count_must_divide_the_batch(store, tmp_path, capsys):
    code = main(["train", str(_config(tmp_path)), "--data", str(store), "--out",
                 str(tmp_path / "x"), "--nproc", "3"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not divide" in err
    group = ProcessGroup(rank=1, world=3)
    with pytest.raises(ConfigError, match="do not divide"):
        group.check_batch(4)


def test_shards_partition_the_batch():
    shards = [ProcessGroup(rank=r, world=4).shard(8) for r in range(4)]
    assert shards == [Shard(0, 2, 8), Shard(2, 4, 8), Shard(4, 6, 8), Shard(6, 8, 8)]
    assert ProcessGroup().shard(8) is None and ProcessGroup().rows(8) is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only refusal")
def test_cuda_on_a_cpu_machine_is_one_line_before_spawning(store, tmp_path, capsys):
    """Bug (issue 15): `--nproc 2` with device = "cuda" on a CPU machine printed 82 lines
    and three tracebacks (one per process); the device is checked before spawning."""
    config = tmp_path / "cuda.toml"
    config.write_text(CONFIG.format(total=2, workers=0, precision="float32")
                      .replace('device = "cpu"', 'device = "cuda"'))
    code = main(["train", str(config), "--data", str(store), "--out", str(tmp_path / "run"),
                 "--nproc", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["rollflow train: error: runtime.device = 'cuda' but no CUDA "
                                 "device is available"]
    assert not (tmp_path / "run").exists()
