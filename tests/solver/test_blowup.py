"""Blow-up detection: non-finite or runaway samples raise SolverBlowUpError naming them."""

import numpy as np
import pytest

from rollflow.errors import SolverBlowUpError
from rollflow.solver import advance, integrate, random_initial_vorticity, simulate
from rollflow.solver.blowup import RUNAWAY_FACTOR, check_chunk, speed_limit


def test_nan_input_names_sample_and_time(small_spec):
    omega = random_initial_vorticity(small_spec, [0, 1])
    omega[1, 5, 5] = np.nan
    with pytest.raises(SolverBlowUpError, match=r"sample 9 has non-finite .* t = 1\.5 t\.u\."):
        integrate(small_spec, omega, 3, sample_indices=[4, 9], time_offset=1.5)


def test_huge_field_blows_up_within_the_first_chunk(small_spec):
    omega = random_initial_vorticity(small_spec, [0]) * 1e4
    with pytest.raises(SolverBlowUpError, match=r"sample 12 .* t = 0\.[2-9]"):
        advance(small_spec, omega, 2.0, sample_indices=[12])


def test_unstable_time_step_is_reported_during_warm_up(small_spec):
    """max_velocity far below the real speed → dt ≈ 7× the CFL limit → RK4 diverges."""
    spec = small_spec.replace(max_velocity=0.1, warmup_time=4.0)
    with pytest.raises(SolverBlowUpError, match=r"sample [0-9]+ .* t = -[0-9.]+ t\.u\."):
        simulate(spec, [0, 1])


def test_runaway_speed_is_caught_even_when_finite():
    frames = np.zeros((2, 4, 8, 8))
    speed = np.array([3.0, 200.0])
    with pytest.raises(SolverBlowUpError, match=r"sample 21 ran away .* t = 1\.8 t\.u\."):
        check_chunk(frames, speed, labels=[20, 21], start_time=1.0, save_interval=0.2,
                    limit=70.0)
    check_chunk(frames, np.array([3.0, 60.0]), labels=[20, 21], start_time=1.0,
                save_interval=0.2, limit=70.0)


def test_earliest_non_finite_frame_is_reported():
    frames = np.zeros((3, 5, 4, 4))
    frames[0, 4, 0, 0] = np.inf
    frames[2, 1, 3, 3] = np.nan
    with pytest.raises(SolverBlowUpError, match=r"sample 2 .* t = 0\.4 t\.u\. \(and 1 more"):
        check_chunk(frames, np.ones(3), labels=[0, 1, 2], start_time=0.0, save_interval=0.2,
                    limit=70.0)


def test_speed_limit_scales_with_the_spec(small_spec):
    assert speed_limit(small_spec) == RUNAWAY_FACTOR * 7.0
    assert speed_limit(small_spec.replace(max_velocity=9.0)) == RUNAWAY_FACTOR * 9.0
