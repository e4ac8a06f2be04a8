"""Honest cost (METHOD.md §5): a reading costs everything that produced it.

- An M-member ensemble-mean T_c costs M × the per-member seconds per t.u.; a
  single-member reading costs one member. Network calls per emitted frame are the
  hardware-free cost, per member.
- The solvers form the reference line on the (cost, skill) plane: piecewise linear in
  log cost through their points (`solver_line`); a forecaster is worth its cost where its
  point lies above it (`skill_margin` > 0).
- Amortised: a learned model also cost CPU-hours of training data and training. Against
  the solver of equal skill (the cost at which the line reaches the model's T_c), it pays
  for itself after upfront / (solver cost − model cost) forecast t.u. per trajectory;
  "never" (inf) when the model is not cheaper than that solver.

Pure numpy; costs in seconds per simulated time unit per trajectory (s/t.u.), skill in
t.u. (a decorrelation time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rollflow.errors import DataError

__all__ = ["reading_costs", "solver_line", "line_skill_at", "line_cost_at", "skill_margin",
           "break_even_time_units"]


def reading_costs(attrs: Mapping[str, Any], members: int | None = None) -> dict[str, float]:
    """From a forecast's attrs: members (default: its `forecast_num_members`, else 1),
    network calls per frame per member, and the seconds per t.u. per trajectory of one
    member and of all members."""
    members = int(attrs.get("forecast_num_members", 1) if members is None else members)
    per_member = float(attrs.get("forecast_seconds_per_time_unit", math.nan))
    return {"members": members,
            "calls_per_frame_per_member": float(attrs.get("forecast_network_calls_per_frame",
                                                          0.0)),
            "seconds_per_time_unit_one_member": per_member,
            "seconds_per_time_unit_all_members": per_member * members}


def solver_line(costs: Sequence[float], skills: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The solvers' points sorted by cost: (log cost, skill); DataError unless costs are
    positive and skill rises with cost (a line the plane can be read against)."""
    costs, skills = np.asarray(costs, float), np.asarray(skills, float)
    order = np.argsort(costs)
    costs, skills = costs[order], skills[order]
    if costs.size < 2 or (costs <= 0).any() or not np.all(np.diff(skills) > 0):
        raise DataError(f"the solver line needs ≥ 2 points with positive cost and skill "
                        f"rising with cost (got costs {costs.tolist()}, skills {skills.tolist()})")
    return np.log(costs), skills


def line_skill_at(line: tuple[np.ndarray, np.ndarray], cost: float) -> float:
    """The line's skill at `cost` (linear in log cost between points, extended linearly
    beyond the end points)."""
    log_cost, skill = line
    x = math.log(cost)
    i = int(np.clip(np.searchsorted(log_cost, x) - 1, 0, log_cost.size - 2))
    slope = (skill[i + 1] - skill[i]) / (log_cost[i + 1] - log_cost[i])
    return float(skill[i] + slope * (x - log_cost[i]))


def line_cost_at(line: tuple[np.ndarray, np.ndarray], skill: float) -> float:
    """The cost at which the line reaches `skill` (inverse of `line_skill_at`)."""
    log_cost, skills = line
    i = int(np.clip(np.searchsorted(skills, skill) - 1, 0, skills.size - 2))
    slope = (log_cost[i + 1] - log_cost[i]) / (skills[i + 1] - skills[i])
    return float(math.exp(log_cost[i] + slope * (skill - skills[i])))


def skill_margin(line: tuple[np.ndarray, np.ndarray], cost: float, skill: float) -> float:
    """How far (t.u.) a point lies above the line at its own cost (negative: below)."""
    return skill - line_skill_at(line, cost)


def break_even_time_units(upfront_cpu_seconds: float, model_cost: float,
                          line: tuple[np.ndarray, np.ndarray], skill: float) -> float:
    """Forecast t.u. (per trajectory) after which a model of `skill` at `model_cost` s/t.u.
    has repaid its upfront CPU seconds against the solver of equal skill; inf if never."""
    solver_cost = line_cost_at(line, skill)
    saving = solver_cost - model_cost
    return upfront_cpu_seconds / saving if saving > 0 else math.inf
