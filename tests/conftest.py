"""Shared fixtures. Store/generation section: a tiny FlowSpec and a fake solver whose
sample i depends only on (spec, i), like the real `rollflow.solver.simulate`."""

from __future__ import annotations

import sys
import numpy as np
import pytest

from rollflow.specs import FlowSpec


class FakeSolver:
    """Stand-in for `rollflow.solver.simulate` (same signature and output contract).

    Sample i is a deterministic pseudo-random float32 field drawn from (spec.seed, i), so
    results do not depend on batch composition. Records the sample indices of every call;
    raises KeyboardInterrupt on call number `interrupt_on_call` (1-based), after reporting
    some progress, as a user pressing Ctrl-C mid-batch would.
    """

    def __init__(self, interrupt_on_call: int | None = None):
        self.interrupt_on_call = interrupt_on_call
        self.calls: list[list[int]] = []

    @staticmethod
    def sample(spec: FlowSpec, index: int) -> np.ndarray:
        rng = np.random.default_rng([spec.seed, index])
        n = spec.output_size
        return rng.standard_normal((spec.num_frames, n, n)).astype(np.float32)

    def __call__(self, spec, sample_indices, *, progress=None):
        indices = [int(i) for i in sample_indices]
        self.calls.append(indices)
        total = spec.warmup_frames + spec.num_frames
        if progress is not None:
            progress(total // 2)
        if len(self.calls) == self.interrupt_on_call:
            raise KeyboardInterrupt
        if progress is not None:
            progress(total - total // 2)
        return np.stack([self.sample(spec, i) for i in indices])


@pytest.fixture
def tiny_spec() -> FlowSpec:
    """5 samples × 70 frames (two time chunks of ≤ 64) on an 8² output grid."""
    return FlowSpec(simulation_size=16, output_size=8, num_frames=70, num_samples=5,
                    warmup_time=0.4, save_interval=0.2, seed=3)


@pytest.fixture
def fake_solver() -> FakeSolver:
    return FakeSolver()


@pytest.fixture
def make_fake_solver():
    """Factory: `make_fake_solver(interrupt_on_call=2)`."""
    return FakeSolver


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny test networks run on one intra-op thread: on a shared 2-core machine torch's
    pool spins against other processes and makes them ~10× slower. Only applies when
    torch is already imported, so analysis/store tests never import it."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
