"""Measure the cost of a training step, to give runs of different speed equal budgets.

`step_cost(config, data)` builds the run (network, data, objective) in a throw-away
directory, runs a few warm-up steps, then times `num_steps` steps with the process CPU
clock (all threads) and the wall clock. Budgets in the benchmark are CPU seconds, so a
model that is twice as cheap per step gets twice the steps. `interleaved_step_costs` measures
several configs in rounds (A B A B …) so that drifting machine load hits them alike.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from rollflow.training.config import TrainConfig
from rollflow.training.loop import train_step
from rollflow.training.state import prepare_run

__all__ = ["StepCost", "step_cost", "steps_for_budget", "interleaved_step_costs"]


@dataclasses.dataclass(frozen=True)
class StepCost:
    """Median cost of one optimisation step (seconds) and what it was measured on."""

    cpu_seconds: float
    wall_seconds: float
    batch_size: int
    num_steps: int

    @property
    def cpu_seconds_per_sample(self) -> float:
        return self.cpu_seconds / self.batch_size


def step_cost(config: TrainConfig, data_path: str | Path, *, num_steps: int = 8,
              warmup_steps: int = 2) -> StepCost:
    """Median CPU and wall seconds per training step of `config` on the store `data_path`."""
    with tempfile.TemporaryDirectory(prefix="rollflow-probe-") as tmp:
        state = prepare_run(config, data_path, Path(tmp) / "run", resume=False)
        cpu, wall = [], []
        for index in range(warmup_steps + num_steps):
            c0, w0 = time.process_time(), time.perf_counter()
            train_step(state, _batch(state, index))      # data loading included
            if index >= warmup_steps:
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
    return StepCost(float(np.median(cpu)), float(np.median(wall)),
                    config.optim.batch_size, num_steps)


def _batch(state, step: int) -> torch.Tensor:
    return torch.stack([state.train_set[i] for i in state.sampler.batch(step)])


def steps_for_budget(cost: StepCost, cpu_seconds: float) -> int:
    """Whole steps that fit in a CPU-seconds budget at the measured cost (≥ 1)."""
    return max(1, int(cpu_seconds / cost.cpu_seconds))


def _cost_key(config: TrainConfig) -> tuple:
    """Configs with the same network, context, window and batch cost the same per step."""
    return (repr(config.net), config.diffusion.num_context, config.diffusion.window_size,
            config.optim.batch_size)


def interleaved_step_costs(configs: Mapping[str, TrainConfig], data_path: str | Path, *,
                           rounds: int = 3, num_steps: int = 6, warmup_steps: int = 2,
                           ) -> dict[str, list[float]]:
    """CPU seconds per step of each config, measured in `rounds` interleaved rounds; configs
    that share a network, window and batch share one measurement (hence their step
    counts for a budget are equal). Returns name → the per-round costs (take the median)."""
    keys = {name: _cost_key(config) for name, config in configs.items()}
    first = {key: name for name, key in reversed(list(keys.items()))}
    samples: dict[tuple, list[float]] = {key: [] for key in first}
    for _ in range(rounds):
        for key, name in first.items():
            samples[key].append(step_cost(configs[name], data_path, num_steps=num_steps,
                                          warmup_steps=warmup_steps).cpu_seconds)
    return {name: list(samples[key]) for name, key in keys.items()}
