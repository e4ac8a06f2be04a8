"""TrainConfig from TOML: every experiment config builds; unknown keys are refused."""

from pathlib import Path

import pytest

from rollflow.errors import ConfigError
from rollflow.nets import build_network, count_parameters
from rollflow.training import RuntimeConfig, config_hash, load_train_config

# Training configs are named <mode>_<dataset>.toml; other TOML files there (demo) are not.
EXPERIMENTS = sorted(p for p in (Path(__file__).resolve().parents[2] / "experiments").glob("*.toml")
                     if p.stem.split("_")[0] in ("rolling", "standard", "deterministic"))


def test_experiment_configs_exist():
    names = {p.stem for p in EXPERIMENTS}
    for mode in ("rolling", "standard", "deterministic"):
        assert {f"{mode}_kf32", f"{mode}_kf64"} <= names


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_experiment_config_builds(path):
    config = load_train_config(path)
    assert path.stem.startswith(config.diffusion.mode)
    network = build_network(config.net, config.num_frames)
    params = count_parameters(network)
    grid = config.data.grid_size
    config.net.check_grid(grid)
    if grid == 32:  # CPU scale
        assert 1_000_000 <= params <= 5_000_000, params
    else:
        assert params > 5_000_000, params


def test_sibling_configs_differ_only_in_mode():
    for scale in ("kf32", "kf64"):
        configs = [load_train_config(p) for p in EXPERIMENTS if p.stem.endswith(scale)]
        stripped = {config_hash(c.replace(diffusion=c.diffusion.replace(mode="rolling")))
                    for c in configs}
        assert len(configs) == 3 and len(stripped) == 1


def test_unknown_keys_are_refused(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text("[optim]\nlearning_rate = 1e-3\n")
    with pytest.raises(ConfigError, match=r"unknown key 'learning_rate' in .*optim.*allowed: lr"):
        load_train_config(path)
    path.write_text("sed = 1\n")
    with pytest.raises(ConfigError, match="unknown key 'sed'"):
        load_train_config(path)
    path.write_text("[net]\nchannel_multipliers = [1, 2, 2]\n[data]\ngrid_size = 30\n")
    with pytest.raises(ConfigError, match="not divisible"):
        load_train_config(path)


def test_hash_ignores_runtime_only():
    config = load_train_config(EXPERIMENTS[0])
    faster = config.replace(runtime=RuntimeConfig(device="cpu", compile=True, num_threads=2))
    assert config_hash(faster) == config_hash(config)
    assert config_hash(config.replace(seed=config.seed + 1)) != config_hash(config)


def test_fields_added_later_leave_older_hashes_unchanged():
    """Checkpoints written before `data.augment`, `optim.extra_ema_decays`, `optim.ema_ramp`,
    `diffusion.distilled_from`, `diffusion.train_context_noise`, `diffusion.train_own_context`,
    `diffusion.train_rollout_frames`/`_members`, [distill] and [init] existed
    keep verifying: at their defaults
    those fields are left out of the hash."""
    import hashlib
    import json

    from rollflow.configio import to_mapping
    from rollflow.training import DataConfig, OptimConfig

    config = load_train_config(EXPERIMENTS[0])
    mapping = to_mapping(config)
    mapping.pop("runtime")
    del mapping["data"]["augment"], mapping["optim"]["extra_ema_decays"]
    del mapping["optim"]["ema_ramp"]
    del mapping["diffusion"]["distilled_from"], mapping["distill"], mapping["init"]
    del mapping["diffusion"]["train_context_noise"], mapping["diffusion"]["train_own_context"]
    del mapping["diffusion"]["train_rollout_frames"], mapping["diffusion"]["train_rollout_members"]
    old = hashlib.sha256(json.dumps(mapping, sort_keys=True,
                                    separators=(",", ":")).encode()).hexdigest()
    assert config_hash(config) == old
    augmented = config.replace(data=DataConfig(augment="group"))
    assert config_hash(augmented) != old
    noisy = config.replace(diffusion=config.diffusion.replace(train_context_noise=0.02))
    assert config_hash(noisy) != old
    rolling = config.replace(diffusion=config.diffusion.replace(mode="rolling"))
    own = rolling.replace(diffusion=rolling.diffusion.replace(train_own_context=0.5))
    assert config_hash(own) != config_hash(rolling)
    tuned = rolling.replace(diffusion=rolling.diffusion.replace(train_rollout_frames=8))
    assert config_hash(tuned) != config_hash(rolling)
    emas = config.replace(optim=OptimConfig(extra_ema_decays=(0.9999,)))
    assert config_hash(emas) != config_hash(config.replace(optim=OptimConfig()))
    with pytest.raises(ConfigError, match="extra_ema_decays"):
        OptimConfig(ema_decay=0.999, extra_ema_decays=(0.999,))


def test_a_student_is_warm_started_only_to_tune_it_on_rollouts():
    """A distilled student (diffusion.distilled_from) comes from `rollflow distill` with its
    teacher, or — fine-tuned on its own rollouts — from [init] with the rollout CRPS."""
    from rollflow.training import InitConfig

    config = load_train_config(EXPERIMENTS[0])
    student = config.diffusion.replace(mode="rolling", steps_per_shift=1, distilled_from=2)
    init = InitConfig(weights="kf32-rolling-k1")
    with pytest.raises(ConfigError, match="needs both"):
        config.replace(diffusion=student)
    with pytest.raises(ConfigError, match="needs both"):
        config.replace(diffusion=student, init=init)
    tuned = config.replace(diffusion=student.replace(train_rollout_frames=8), init=init)
    assert tuned.diffusion.train_rollout_frames == 8
