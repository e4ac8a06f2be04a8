"""Readings on the cost–skill plane: M-member readings cost M members; solver line margins."""

import dataclasses
import math

import pytest

from rollflow.analysis.cost import solver_line
from rollflow.analysis.readings import (ensemble_readings, line_of, pareto_points,
                                        readings_table, solver_readings, verdicts_table,
                                        worth_its_cost)
from rollflow.analysis.cost import skill_margin
from rollflow.analysis.tables import paired_difference
from rollflow.errors import DataError
from rollflow.analysis.skill import headline_skill
from rollflow.analysis.tables import reading

from test_skill import _pair


def _scored(rng, members, growth, cost):
    fc, truth = _pair(rng, members=members, noise_growth=growth)
    skill = headline_skill(fc, truth, num_resamples=30).compute()
    skill.attrs.update(forecast_seconds_per_time_unit=cost, forecast_num_members=members,
                       forecast_network_calls_per_frame=2.0)
    return skill


@pytest.fixture
def scores(rng):
    return {"model": _scored(rng, 4, 0.3, 0.1), "model_m2": _scored(rng, 2, 0.3, 0.1),
            "solver_a": _scored(rng, 1, 0.6, 0.01), "solver_b": _scored(rng, 1, 0.25, 1.0)}


def test_each_reading_costs_all_its_members(scores):
    found = ensemble_readings(scores, "model", "M")
    assert [r.members for r in found] == [1, 2, 4]
    assert [r.cost for r in found] == pytest.approx([0.1, 0.2, 0.4])
    assert found[0].kind == "member" and found[0].T == reading(scores["model"], "member")
    assert found[-1].T == reading(scores["model"], "mean")
    assert ensemble_readings(scores, "absent", "x") == []
    scores["model_m1"] = _scored(__import__("numpy").random.default_rng(3), 1, 0.3, 0.12)
    one = ensemble_readings(scores, "model", "M")[0]     # a real one-member forecast wins
    assert one.kind == "mean" and one.cost == pytest.approx(0.12)


def test_margins_are_read_against_the_solver_line(scores):
    solvers = solver_readings(scores, {"solver_a": "a", "solver_b": "b"})
    line = line_of(solvers)
    expected = solver_line([0.01, 1.0], [s.T[0] for s in solvers])
    assert all((line[i] == expected[i]).all() for i in range(2))
    rows = readings_table(solvers, line)
    assert [r.split("|")[-2].strip() for r in rows[2:]] == ["+0.00", "+0.00"]
    assert line_of(solvers[:1]) is None
    assert readings_table(solvers, None)[2].split("|")[-2].strip() == "—"


def test_pareto_points_group_one_curve_per_forecaster(scores):
    readings = ensemble_readings(scores, "model", "M")
    solvers = solver_readings(scores, {"solver_a": "a", "solver_b": "b"})
    points = pareto_points(readings, solvers)
    assert list(points.kind.values) == ["solver", "solver", "ensemble", "ensemble", "ensemble"]
    assert list(points.label.values[2:]) == ["M=1", "M=2", "M=4"]
    assert set(points.group.values[2:]) == {"M"}
    two = pareto_points(readings, [dataclasses.replace(s, label=f"{name} 64²")
                                   for s, name in zip(solvers, ("jax-cfd", "exponax"))])
    assert list(two.group.values[:2]) == ["jax-cfd", "exponax"]   # one line per solver
    assert not math.isnan(float(points.cost.sum()))


def test_comparison_figures_write_one_file_per_figure(scores, tmp_path):
    from rollflow.analysis.figures import comparison_figures

    labels = {n: n.upper() for n in scores}
    points = pareto_points(ensemble_readings(scores, "model", "M"),
                           solver_readings(scores, {"solver_a": "a", "solver_b": "b"}))
    paths = comparison_figures(scores, labels, tmp_path / "figs", pareto=points)
    spread = [n for n in scores if "spread" in scores[n]]
    assert len(paths) == 2 + len(spread) + 1 and len(set(paths)) == len(paths)
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_worth_its_cost_reads_both_acceptance_margins(scores):
    solvers = {"solver_a": "a", "solver_b": "b"}
    verdict = worth_its_cost(scores, "model", solvers, reference="solver_b")
    line = line_of(solver_readings(scores, solvers))
    member = reading(scores["model"], "member")[0]     # no model_m1: the ensemble's member
    assert verdict["single_T"] == member and verdict["single_cost"] == pytest.approx(0.1)
    assert verdict["single_margin"] == skill_margin(line, 0.1, member)
    diff = paired_difference(scores, "model", "solver_b").sel(threshold=0.8)
    assert verdict["ensemble_delta"] == tuple(float(diff[p])
                                              for p in ("estimate", "lower", "upper"))
    assert verdict["ensemble_delta"][1] <= verdict["ensemble_delta"][0] \
        <= verdict["ensemble_delta"][2]
    assert verdict["worst"] == min(verdict["single_margin"], verdict["ensemble_delta"][1])
    assert verdict["members"] == 4
    rows = verdicts_table({"model": verdict, "other": verdict}, {"model": "The model"}, "other",
                          reference="jax-cfd 64²")
    assert "mean − jax-cfd 64² (ΔT₀.₈)" in rows[0]
    cells = [c.strip() for c in rows[2].split("|")[1:-1]]
    assert cells[0] == "The model" and cells[3] == f"{verdict['single_margin']:+.2f}"
    assert cells[4].startswith("M = 4: ") and cells[5] == ""
    assert rows[3].split("|")[1].strip() == "other" and rows[3].split("|")[-2].strip() == "✓"
    with pytest.raises(DataError, match="must all be scored"):
        worth_its_cost(scores, "model", solvers, reference="absent")
