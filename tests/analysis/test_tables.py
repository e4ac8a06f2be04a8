"""Markdown score tables: readings with intervals, honest cost of all members, paired rows."""

import numpy as np
import pytest

from rollflow.analysis.skill import headline_skill, skill_record
from rollflow.analysis.tables import (interval_text, learning_curve_table, paired_table,
                                      reading, reference_table, replace_block, skill_table)
from rollflow.errors import DataError

from test_skill import _pair


@pytest.fixture
def two_forecasts(rng):
    """Two forecasts of the same states; the first with half the error growth."""
    good, truth = _pair(rng, noise_growth=0.3)
    bad = truth.values[:, None, 1:] + 2.0 * (good.values - truth.values[:, None, 1:])
    bad = good.copy(data=bad)
    scores = {}
    for name, fc, cost in (("good", good, 0.5), ("bad", bad, 0.1)):
        skill = headline_skill(fc, truth, num_resamples=50).compute()
        skill.attrs.update(forecast_seconds_per_time_unit=cost, forecast_num_members=3,
                           forecast_network_calls_per_frame=4.0)
        scores[name] = skill
    return scores


def _cells(line):
    return [c.strip() for c in line.strip("|").split("|")]


def test_skill_table_states_the_cost_of_all_members(two_forecasts):
    lines = skill_table(two_forecasts)
    assert len(lines) == 2 + len(two_forecasts)
    header = _cells(lines[0])
    for line, (name, skill) in zip(lines[2:], two_forecasts.items()):
        cells = dict(zip(header, _cells(line)))
        assert cells["forecast"] == name and cells["members"] == "3"
        one = float(cells["s per t.u., one member"])
        assert float(cells["s per t.u., all members"]) == pytest.approx(3 * one)
        assert cells["T₀.₈ (t.u.)"] == interval_text(reading(skill))


def test_reading_matches_the_record(two_forecasts):
    skill = two_forecasts["good"]
    record = skill_record(skill)
    est, lo, hi = reading(skill, "member", 0.9)
    assert (record["T_member"]["0.9"], record["T_member_lower"]["0.9"],
            record["T_member_upper"]["0.9"]) == (est, lo, hi)
    assert lo <= est <= hi
    assert record["seconds_per_time_unit"] == 0.5 and record["network_calls_per_frame"] == 4.0


def test_paired_table_signs_the_difference(two_forecasts):
    forward = paired_table(two_forecasts, [("good", "bad"), ("good", "absent")])
    backward = paired_table(two_forecasts, [("bad", "good")])
    assert len(forward) == 3 and len(backward) == 3       # the pair with a missing side is skipped
    delta = lambda lines: float(_cells(lines[2])[4].split()[0])
    assert delta(forward) > 0 and delta(forward) == pytest.approx(-delta(backward))
    assert paired_table(two_forecasts, [("good", "absent")]) == []


def test_replace_block_keeps_the_rest_of_the_page():
    page = "intro\n<!-- a -->\nold\n<!-- b -->\noutro\n"
    new = replace_block(page, "<!-- a -->", "<!-- b -->", "<!-- a -->\nnew\n<!-- b -->")
    assert new == "intro\n<!-- a -->\nnew\n<!-- b -->\noutro\n"
    assert replace_block("intro\n", "<!-- a -->", "<!-- b -->", "X") == "intro\n\nX\n"
    with pytest.raises(DataError):
        replace_block("<!-- b --> <!-- a -->", "<!-- a -->", "<!-- b -->", "X")


def test_interval_text_and_curve_rows():
    assert interval_text([4.061, 3.87, 4.284]) == "4.06 [3.87, 4.28]"
    assert interval_text([0.3, -0.1, 0.7], signed=True) == "+0.30 [-0.10, +0.70]"
    rows = learning_curve_table([{"step": 10, "samples_seen": 80, "cpu_hours": 0.5,
                                  "T_mean": {"0.8": 3.0, "0.9": 2.0}}])
    assert _cells(rows[2]) == ["10", "80", "0.50", "3.00", "2.00"]


def test_reference_table_reads_the_last_lead(two_forecasts):
    skill = two_forecasts["bad"]
    rows = reference_table({"persistence": skill})
    assert float(_cells(rows[2])[4]) == pytest.approx(float(skill.rmse.isel(time=-1)), abs=5e-4)
    assert np.isfinite(float(_cells(rows[2])[2]))


def test_divergence_and_ablation_rows():
    import xarray as xr

    from rollflow.analysis.tables import ablation_table, divergence_table

    skill = xr.Dataset({"ensemble_growth_rate": 0.5})
    rows = divergence_table({"m": skill, "no members": xr.Dataset()}, 0.25, 0.01, "twins")
    assert _cells(rows[2]) == ["flow (twins)", "λ₁ = 0.250 ± 0.010", "1"]
    assert _cells(rows[3]) == ["m", "0.500", "2.00"] and len(rows) == 4
    record = {"overrides": {"a": 1}, "parameters": 2e6, "cpu_seconds_per_step": 0.5,
              "total_steps": 10, "batch_size": 8, "rho_at": {"0.2": 0.99},
              "T_mean": {"0.8": 3.0, "0.9": 2.0}, "T_mean_lower": {"0.8": 2.5},
              "T_mean_upper": {"0.8": 3.5}, "network_calls_per_frame": 4.0,
              "seconds_per_time_unit": 0.1, "steps_per_shift": 2}
    old = {k: v for k, v in record.items() if k != "T_mean"} | {"T_mean_estimate": record["T_mean"]}
    rows = ablation_table({"base": record, "older": old, "base_K2": record})
    assert _cells(rows[2])[5] == "3.00 [2.50, 3.50]" == _cells(rows[3])[5]
    assert _cells(rows[-1])[:2] == ["base_K2", "2"]


def test_ema_table_marks_the_chosen_decay():
    from rollflow.analysis.tables import ema_table

    scores = {"0.999": {"T_mean": {"0.8": 4.19}, "T_member": {"0.8": 3.99}},
              "0.9999": {"T_mean": {"0.8": 4.171}, "T_member": {"0.8": 3.97}}}
    rows = ema_table({"teacher": {"chosen": 0.999, "step": 40000, "cpu_hours": 3.63,
                                  "validation": scores}})
    cells = [[c.strip() for c in row.split("|")[1:-1]] for row in rows[2:]]
    assert cells == [["teacher (step 40000, 3.63 CPU-h)", "0.999", "4.19", "3.99", "✓"],
                     ["teacher (step 40000, 3.63 CPU-h)", "0.9999", "4.17", "3.97", ""]]
    assert ema_table({}) == rows[:2]
