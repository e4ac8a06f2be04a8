"""Step-cost probe: a measured cost per step, and budgets proportional to it."""

import dataclasses

from rollflow.training import StepCost, step_cost, steps_for_budget

from training_fixtures import tiny_config


def test_step_cost_is_positive_and_scales_with_the_batch(store):
    config = tiny_config("rolling")
    small = step_cost(config, store, num_steps=3, warmup_steps=1)
    big = step_cost(config.replace(optim=dataclasses.replace(config.optim, batch_size=16)),
                    store, num_steps=3, warmup_steps=1)
    assert 0 < small.cpu_seconds and 0 < small.wall_seconds
    assert big.batch_size == 16 and big.cpu_seconds > small.cpu_seconds


def test_steps_for_budget_is_inverse_to_cost():
    cheap, dear = StepCost(0.1, 0.1, 8, 4), StepCost(0.4, 0.4, 8, 4)
    assert steps_for_budget(cheap, 60.0) == 600 and steps_for_budget(dear, 60.0) == 150
    assert steps_for_budget(dear, 0.01) == 1
    assert cheap.cpu_seconds_per_sample == 0.1 / 8


def test_interleaved_costs_measure_each_network_once_per_round(store):
    from rollflow.training import interleaved_step_costs

    config = tiny_config("rolling")
    other_lr = config.replace(optim=dataclasses.replace(config.optim, lr=1e-2))  # same cost
    bigger = config.replace(optim=dataclasses.replace(config.optim, batch_size=16))
    costs = interleaved_step_costs({"a": config, "b": other_lr, "c": bigger}, store, rounds=2,
                                   num_steps=2, warmup_steps=1)
    assert set(costs) == {"a", "b", "c"} and all(len(v) == 2 for v in costs.values())
    assert costs["a"] == costs["b"]              # one measurement shared: equal step counts
    assert costs["a"] != costs["c"] and min(min(v) for v in costs.values()) > 0
