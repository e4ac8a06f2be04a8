"""Distillation runs: the student config is the teacher's with K halved, starts from the
teacher's weights and normalisation, trains, resumes exactly, and refuses mismatches."""

import dataclasses

import pytest
import torch

from rollflow.errors import ConfigError, DataError
from rollflow.forecast import ForecastSettings, forecast
from rollflow.store import open_trajectories
from rollflow.training import (distillation_config, latest_checkpoint, load_checkpoint,
                               load_trained, train)

from training_fixtures import tiny_config


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    """A tiny rolling teacher with K = 4 (12 steps) and its store."""
    from training_fixtures import travelling_waves, write_store

    root = tmp_path_factory.mktemp("teacher")
    store = write_store(root / "tiny.zarr", travelling_waves(3, 12, 16))
    list(train(tiny_config("rolling"), store, root / "run"))
    return store, root / "run"


def _student(teacher_dir, **changes):
    config = load_trained(teacher_dir).config
    return distillation_config(config, teacher_ref=str(teacher_dir), total_steps=6,
                               lr=1e-3, warmup_steps=1, **changes)


def _assert_same_weights(run_a, run_b):
    """The newest checkpoints of two runs hold bit-identical network weights."""
    a = load_checkpoint(latest_checkpoint(run_a))
    b = load_checkpoint(latest_checkpoint(run_b))
    for name in a.model:
        assert torch.equal(a.model[name], b.model[name]), name


def test_student_starts_as_its_teacher_and_learns(teacher, tmp_path):
    store, run = teacher
    config = _student(run)
    assert config.diffusion.steps_per_shift == 2 and config.diffusion.distilled_from == 4
    records = train(config, store, tmp_path / "student", stop_at=0)
    start = next(records)
    list(records)
    first = load_checkpoint(latest_checkpoint(tmp_path / "student"))
    tutor = load_checkpoint(latest_checkpoint(run))
    assert first.step == 0 and first.stats == tutor.stats         # the teacher's units
    for name, value in tutor.ema.items():
        assert torch.equal(first.model[name], value)              # the teacher's weights
    assert start["mean"] == tutor.stats.mean
    losses = [r["loss"] for r in train(config, store, tmp_path / "student", resume=True)
              if r["kind"] == "step"]
    assert len(losses) == 6 and all(l == l and l < 1e3 for l in losses)


def test_student_resumes_bit_identically(teacher, tmp_path):
    store, run = teacher
    config = _student(run)
    list(train(config, store, tmp_path / "full"))
    list(train(config, store, tmp_path / "split", stop_at=3))
    list(train(config, store, tmp_path / "split", resume=True))
    _assert_same_weights(tmp_path / "full", tmp_path / "split")


def test_a_student_only_samples_with_its_own_k(teacher, tmp_path):
    store, run = teacher
    list(train(_student(run), store, tmp_path / "student"))
    model = load_trained(tmp_path / "student")
    truth = open_trajectories(store).vorticity.load()
    out = forecast(model, truth, ForecastSettings(init_index=1, num_frames=3))
    assert out.attrs["forecast_steps_per_shift"] == 2
    assert out.attrs["forecast_network_calls_per_frame"] == pytest.approx((2 * 2 + 2 * 2) / 3)
    with pytest.raises(DataError, match="trained for K = 2.*cannot sample with K = 4") as err:
        forecast(model, truth, ForecastSettings(init_index=1, num_frames=3, steps_per_shift=4))
    assert "\n" not in str(err.value)
    with pytest.raises(DataError, match="η = 1.0"):
        forecast(model, truth, ForecastSettings(init_index=1, num_frames=3, eta=1.0))


def test_mismatched_students_are_refused(teacher, tmp_path):
    store, run = teacher
    config = _student(run)
    wider = dataclasses.replace(config.net, base_channels=16)
    with pytest.raises(ConfigError, match="net.*base_channels"):
        train(config.replace(net=wider), store, tmp_path / "a")
    other_k = config.replace(diffusion=config.diffusion.replace(steps_per_shift=1,
                                                                  distilled_from=2))
    with pytest.raises(ConfigError, match="not teacher .* K halved .*steps_per_shift"):
        train(other_k, store, tmp_path / "b")
    with pytest.raises(ConfigError, match="both"):
        config.replace(distill=dataclasses.replace(config.distill, teacher=None))
    odd = tiny_config("rolling").replace(diffusion=tiny_config().diffusion.replace(
        steps_per_shift=3))
    with pytest.raises(ConfigError, match="must be even"):
        distillation_config(odd, teacher_ref="x", total_steps=2)


def test_a_warm_start_begins_at_the_models_weights_with_a_fresh_schedule(teacher, tmp_path):
    from rollflow.training import InitConfig, config_hash

    store, run = teacher
    base = load_trained(run).config
    config = base.replace(init=InitConfig(weights=str(run)),
                          optim=dataclasses.replace(base.optim, total_steps=4, lr=1e-3))
    list(train(config, store, tmp_path / "warm", stop_at=0))
    first = load_checkpoint(latest_checkpoint(tmp_path / "warm"))
    source = load_checkpoint(latest_checkpoint(run))
    assert first.step == 0 and first.stats == source.stats
    for name, value in source.ema.items():       # network and EMA start at the source's EMA
        assert torch.equal(first.model[name], value) and torch.equal(first.ema[name], value)
    assert first.info["init_step"] == source.step
    list(train(config, store, tmp_path / "warm", resume=True))
    last = load_checkpoint(latest_checkpoint(tmp_path / "warm"))
    assert last.step == 4 and any(not torch.equal(last.model[n], v)
                                  for n, v in source.ema.items())
    assert config_hash(base) != config_hash(config)       # [init] set: part of the hash
    assert config_hash(base) == config_hash(base.replace(init=InitConfig()))   # default: not


def test_a_warm_start_may_change_only_training_only_fields(teacher, tmp_path):
    """train_context_noise and train_own_context shape the training examples, not the
    model: a warm start may set them (and trains with them, on examples one frame longer for
    the own context), while any change of the sampler is refused."""
    from rollflow.training import InitConfig

    store, run = teacher
    base = load_trained(run).config
    noisy = base.replace(diffusion=base.diffusion.replace(train_context_noise=0.05,
                                                          train_own_context=0.5),
                         init=InitConfig(weights=str(run)),
                         optim=dataclasses.replace(base.optim, total_steps=2))
    list(train(noisy, store, tmp_path / "noisy"))
    trained = load_trained(tmp_path / "noisy").config.diffusion
    assert (trained.train_context_noise, trained.train_own_context) == (0.05, 0.5)
    other = noisy.replace(diffusion=noisy.diffusion.replace(init_probability=0.5))
    with pytest.raises(ConfigError, match=r"\[diffusion\] differs.*init_probability"):
        train(other, store, tmp_path / "other")


def test_a_warm_start_may_add_older_context_frames(teacher, tmp_path):
    """n_ctx 1 → 3 on a channel-stacked network: the run starts from the model's weights with
    zero weights for the two older frames (`prepend_frames`) and trains; fewer frames are
    refused in one line."""
    from rollflow.nets.stacked import prepend_frames
    from rollflow.training import InitConfig

    store, _ = teacher
    config = tiny_config("rolling", total_steps=4)
    config = config.replace(net=dataclasses.replace(config.net, window_encoding="channels"))
    run = tmp_path / "stacked"
    list(train(config, store, run))
    base = load_trained(run).config
    assert base.diffusion.num_context == 1
    more = base.replace(diffusion=base.diffusion.replace(num_context=3),
                        init=InitConfig(weights=str(run)),
                        optim=dataclasses.replace(base.optim, total_steps=2))
    list(train(more, store, tmp_path / "more", stop_at=0))
    first = load_checkpoint(latest_checkpoint(tmp_path / "more"))
    source = load_checkpoint(latest_checkpoint(run))
    for name, value in prepend_frames(source.ema, base.num_frames, 2).items():
        assert torch.equal(first.model[name], value)
    list(train(more, store, tmp_path / "more", resume=True))
    assert load_trained(tmp_path / "more").config.diffusion.num_context == 3
    fewer = more.replace(diffusion=base.diffusion.replace(num_context=1, window_size=1))
    with pytest.raises(ConfigError, match=r"\[diffusion\] differs.*window_size") as err:
        train(fewer, store, tmp_path / "fewer")
    assert "\n" not in str(err.value)


def test_a_warm_start_may_add_the_forcing_channels(teacher, tmp_path):
    """net.forcing_wavenumber 0 → k_f on a channel-stacked network: the run starts from the
    model's weights with two zero stem channels (`add_forcing_channels`) and trains; a k_f
    other than the store's is refused in one line."""
    from rollflow.nets.stacked import add_forcing_channels
    from rollflow.store import read_spec
    from rollflow.training import InitConfig

    store, _ = teacher
    kf = read_spec(store).forcing_wavenumber
    config = tiny_config("rolling", total_steps=4)
    config = config.replace(net=dataclasses.replace(config.net, window_encoding="channels"))
    run = tmp_path / "stacked"
    list(train(config, store, run))
    base = load_trained(run).config
    forced = base.replace(net=dataclasses.replace(base.net, forcing_wavenumber=kf),
                          init=InitConfig(weights=str(run)),
                          optim=dataclasses.replace(base.optim, total_steps=2))
    list(train(forced, store, tmp_path / "forced", stop_at=0))
    first = load_checkpoint(latest_checkpoint(tmp_path / "forced"))
    source = load_checkpoint(latest_checkpoint(run))
    for name, value in add_forcing_channels(source.ema, base.num_frames).items():
        assert torch.equal(first.model[name], value)
    list(train(forced, store, tmp_path / "forced", resume=True))
    assert load_trained(tmp_path / "forced").config.net.forcing_wavenumber == kf
    wrong = forced.replace(net=dataclasses.replace(forced.net, forcing_wavenumber=kf + 1))
    with pytest.raises(ConfigError, match="forcing_wavenumber") as err:
        train(wrong, store, tmp_path / "wrong")
    assert "\n" not in str(err.value)


def test_a_warm_start_refuses_another_model(teacher, tmp_path):
    from rollflow.training import InitConfig

    store, run = teacher
    base = load_trained(run).config
    wider = base.replace(net=dataclasses.replace(base.net, base_channels=16),
                         init=InitConfig(weights=str(run)))
    with pytest.raises(ConfigError, match=r"\[init\].*\[net\] differs.*base_channels") as err:
        train(wider, store, tmp_path / "a")
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="exclude each other"):
        _student(run).replace(init=InitConfig(weights=str(run)))


def test_a_warm_started_teacher_can_be_distilled(teacher, tmp_path):
    """The continued teacher of issue 14 was warm-started ([init].weights); its student's
    config is the teacher's without [init] (a student starts from its teacher's weights),
    where it raised ConfigError before."""
    from rollflow.training import InitConfig

    store, run = teacher
    base = load_trained(run).config
    warm = base.replace(init=InitConfig(weights=str(run)))
    student = distillation_config(warm, teacher_ref=str(run), total_steps=6, lr=1e-3,
                                  warmup_steps=1)
    assert student.init == InitConfig() and student.distill.teacher == str(run)
    assert student.diffusion.steps_per_shift == warm.diffusion.steps_per_shift // 2


def test_a_student_may_train_on_its_own_context_frames(teacher, tmp_path):
    """`own_context` is the student's choice: its teacher is accepted (load_teacher refused
    any [diffusion] difference before), its windows are one frame longer, and it trains
    to finite losses that differ from the true-frames student's on the same batches."""
    store, run = teacher
    config = _student(run, own_context=0.5)
    assert config.diffusion.train_own_context == 0.5
    assert config.diffusion.frames_per_example == _student(run).diffusion.frames_per_example + 1
    own = [r["loss"] for r in train(config, store, tmp_path / "own") if r["kind"] == "step"]
    plain = [r["loss"] for r in train(_student(run), store, tmp_path / "plain")
             if r["kind"] == "step"]
    assert len(own) == 6 and all(l == l and l < 1e3 for l in own)
    assert own != plain


def test_a_student_is_tuned_on_its_own_rollouts_and_resumes_exactly(teacher, tmp_path):
    """[init] from a K = 2 student with the rollout CRPS (R = 3, M = 2): the run starts from
    the student's weights, keeps its sampler (distilled_from, K), trains on examples of
    n_ctx + R frames, and a run stopped after 2 of 4 steps and resumed ends bit-identical
    to an uninterrupted one (same windows, same sampler noise per step)."""
    from rollflow.training import InitConfig

    store, run = teacher
    list(train(_student(run), store, tmp_path / "student"))
    base = load_trained(tmp_path / "student").config
    tuned = base.replace(diffusion=base.diffusion.replace(train_rollout_frames=3),
                         distill=dataclasses.replace(base.distill, teacher=None,
                                                     teacher_ema_decay=None),
                         init=InitConfig(weights=str(tmp_path / "student")),
                         optim=dataclasses.replace(base.optim, total_steps=4))
    steps = [r for r in train(tuned, store, tmp_path / "full") if r["kind"] == "step"]
    assert len(steps) == 4 and all(0 < r["loss"] < 1e3 and "crps_last" in r for r in steps)
    list(train(tuned, store, tmp_path / "split", stop_at=2))
    list(train(tuned, store, tmp_path / "split", resume=True))
    _assert_same_weights(tmp_path / "full", tmp_path / "split")
    trained = load_trained(tmp_path / "full").config.diffusion
    assert (trained.distilled_from, trained.steps_per_shift) == (4, 2)
    assert trained.train_rollout_frames == 3
