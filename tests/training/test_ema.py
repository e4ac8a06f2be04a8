"""The EMA ramps: "mean" keeps the running mean of the weights until it reaches its decay,
so the kept EMAs of a short run differ; "short" is the ramp every older run used."""

import dataclasses

import pytest
import torch

from rollflow.errors import ConfigError
from rollflow.training import (OptimConfig, config_hash, latest_checkpoint, load_checkpoint,
                               train)
from rollflow.training.loop import ema_decay_at

from training_fixtures import tiny_config

EPS32 = 2.0 ** -24          # float32 unit roundoff


def test_ramps_never_exceed_their_decay_and_reach_it():
    for decay in (0.5, 0.9, 0.999):
        short = [ema_decay_at(decay, n, "short") for n in range(1, 20_000)]
        mean = [ema_decay_at(decay, n, "mean") for n in range(1, 20_000)]
        assert max(short) == max(mean) == decay
        assert mean[0] == 0.0                       # the first update copies the weights
        # "mean" reaches the decay at n = 1/(1 − decay); "short" at n = (10d − 1)/(1 − d)
        assert mean.index(decay) + 1 == pytest.approx(1 / (1 - decay), abs=1)
        assert short.index(decay) + 1 == pytest.approx((10 * decay - 1) / (1 - decay), abs=1)
    assert ema_decay_at(0.9999, 7, "short") == ema_decay_at(0.999, 7, "short") == 8 / 17


def test_mean_ramp_is_the_running_mean_of_a_sequence():
    """lerp_ with decay (n − 1)/n is the mean of x_1..x_n. Each float32 lerp of values in
    [−1, 1] rounds three times (difference, product, sum) by at most 2·ε each, and earlier
    errors shrink by the decay ≤ 1, so after n updates |error| ≤ 6 n ε."""
    xs = torch.rand(50, 1000, generator=torch.Generator().manual_seed(0)) * 2 - 1
    ema = torch.zeros(1000)
    for n, x in enumerate(xs, start=1):
        ema.lerp_(x, 1.0 - ema_decay_at(0.999, n, "mean"))
    mean = xs.double().mean(0)
    assert (ema.double() - mean).abs().max() <= 6 * len(xs) * EPS32


def test_mean_ramp_in_training_averages_the_weights_of_every_step(store, tmp_path):
    """Run 6 steps one at a time (resume is bit-identical: test_loop.py): the decay-0.99 EMA
    after step 6 is the mean of the network's weights after steps 1..6, to 6 n ε × max|w|."""
    config = tiny_config("rolling", total_steps=6, ema_decay=0.99, ema_ramp="mean",
                         extra_ema_decays=(0.5,))
    weights = []
    for step in range(1, 7):
        list(train(config, store, tmp_path / "run", stop_at=step, resume=step > 1))
        ckpt = load_checkpoint(latest_checkpoint(tmp_path / "run"))
        assert ckpt.step == step
        weights.append(ckpt.model)
    name = "stem.weight"
    stacked = torch.stack([w[name].double() for w in weights])
    bound = 6 * len(weights) * EPS32 * stacked.abs().max().item()
    assert (ckpt.ema[name].double() - stacked.mean(0)).abs().max() <= bound
    # the decay-0.5 EMA weights the last steps more: it is not the mean
    assert (ckpt.ema_weights(0.5)[name].double() - stacked.mean(0)).abs().max() > 10 * bound


def test_ramp_is_checked_and_enters_the_hash_only_when_not_short():
    with pytest.raises(ConfigError, match="ema_ramp"):
        OptimConfig(ema_ramp="linear")
    config = tiny_config("rolling")
    short, mean = (config.replace(optim=dataclasses.replace(config.optim, ema_ramp=ramp))
                   for ramp in ("short", "mean"))
    assert config_hash(config) == config_hash(short) != config_hash(mean)
