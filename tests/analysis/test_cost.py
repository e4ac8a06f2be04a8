"""Honest cost: ensembles cost all members; the solver line and the break-even time."""

import math

import numpy as np
import pytest

from rollflow.analysis.cost import (break_even_time_units, line_cost_at, line_skill_at,
                                    reading_costs, skill_margin, solver_line)
from rollflow.errors import DataError


def test_an_ensemble_reading_costs_every_member():
    costs = reading_costs({"forecast_num_members": 8, "forecast_seconds_per_time_unit": 0.31,
                           "forecast_network_calls_per_frame": 4.24})
    assert costs["seconds_per_time_unit_all_members"] == pytest.approx(8 * 0.31)
    assert costs["seconds_per_time_unit_one_member"] == 0.31
    assert reading_costs({"forecast_seconds_per_time_unit": 0.5})["members"] == 1


def test_line_is_linear_in_log_cost_through_the_solver_points():
    line = solver_line([0.0877, 0.0186, 0.784], [4.49, 1.56, 5.71])     # any order
    for cost, skill in [(0.0186, 1.56), (0.0877, 4.49), (0.784, 5.71)]:
        assert line_skill_at(line, cost) == pytest.approx(skill)
        assert line_cost_at(line, skill) == pytest.approx(cost)
    middle = math.sqrt(0.0186 * 0.0877)                   # halfway in log cost
    assert line_skill_at(line, middle) == pytest.approx((1.56 + 4.49) / 2)
    # the issue's own example: 8 members at 0.31 s each (2.48 s/t.u.) with T = 4.36 lie
    # below the line; the deterministic model (0.0186 s, 3.34) above it
    assert skill_margin(line, 8 * 0.31, 4.36) < 0 < skill_margin(line, 0.0186, 3.34)
    with pytest.raises(DataError, match="rising"):
        solver_line([0.1, 0.2], [3.0, 2.0])


def test_break_even_against_the_solver_of_equal_skill():
    line = solver_line([0.01, 0.1], [1.0, 3.0])
    # skill 2.0 ↔ the solver at 10^-1.5 = 0.0316 s/t.u.; a model at 0.0116 s/t.u. saves
    # 0.02 s per t.u., so 3600 s upfront are repaid after 180 000 t.u.
    assert break_even_time_units(3600.0, 0.01162277660168, line, 2.0) == pytest.approx(
        180_000, rel=1e-6)
    assert break_even_time_units(3600.0, 0.05, line, 2.0) == math.inf
