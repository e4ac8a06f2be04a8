"""Backends: jax-cfd stays the default and needs nothing more; exponax, when absent, is
refused in one line; each backend steps at its own Courant limit."""

import sys

import numpy as np
import pytest

from rollflow.errors import SpecError
from rollflow.solver import integrate
from rollflow.specs import COURANT_LIMIT, FlowSpec


def test_a_missing_exponax_is_one_line_and_jaxcfd_still_runs(monkeypatch):
    monkeypatch.setitem(sys.modules, "exponax", None)          # import exponax → ImportError
    monkeypatch.setitem(sys.modules, "exponax.stepper", None)
    spec = FlowSpec(simulation_size=18, output_size=18, save_interval=0.1, warmup_time=0.0,
                    num_frames=2, num_samples=1, viscosity=0.05)
    zeros = np.zeros((1, 18, 18), np.float32)
    assert np.isfinite(integrate(spec, zeros, 2)).all()                     # the default
    with pytest.raises(SpecError, match=r"pip install 'rollflow\[exponax\]'") as err:
        integrate(spec.replace(backend="exponax"), zeros, 2)
    assert "\n" not in str(err.value)


def test_each_backend_steps_within_its_courant_limit():
    for backend, limit in COURANT_LIMIT.items():
        spec = FlowSpec(simulation_size=64, backend=backend)
        courant = spec.time_step * spec.max_velocity / spec.grid_spacing
        assert courant <= min(spec.courant_number, limit) * (1 + 1e-12)
    assert FlowSpec(backend="exponax").time_step < FlowSpec().time_step
