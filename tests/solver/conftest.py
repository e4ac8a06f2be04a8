"""Tiny specs shared by the solver tests (32² DNS so every test runs in seconds)."""

import pytest

from rollflow.specs import FlowSpec


@pytest.fixture(scope="session")
def small_spec() -> FlowSpec:
    """Re = 1000 at 32², saved every 0.2 t.u. to 16², 1 t.u. warm-up, 6 frames."""
    return FlowSpec(simulation_size=32, output_size=16, save_interval=0.2, warmup_time=1.0,
                    num_frames=6, num_samples=3, seed=7)
