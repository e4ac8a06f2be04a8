"""Scorecards: exact percentages for a forecast whose errors are scaled copies of another's,
and a report page from scored forecasts of the same states."""

import numpy as np
import pytest
import xarray as xr

from rollflow.analysis.report import embedded, report_page
from rollflow.analysis.scorecard import scorecard
from rollflow.analysis.skill import headline_skill
from rollflow.errors import DataError


def _truth(n=16, samples=6, times=12, seed=0):
    values = np.random.default_rng(seed).standard_normal((samples, times, n, n))
    coords = {"sample": np.arange(samples), "time": 0.2 * np.arange(times),
              "x": 2 * np.pi * np.arange(n) / n, "y": 2 * np.pi * np.arange(n) / n}
    return xr.DataArray(values, dims=("sample", "time", "x", "y"), coords=coords)


def _forecast(truth, deviation, attrs):
    f = (truth.isel(time=slice(2, None)).expand_dims(member=deviation.shape[1], axis=1)
         + deviation)
    f = f.assign_coords(lead_time=("time", f.time.values - float(truth.time[1])))
    skill = headline_skill(f, truth, num_resamples=50)
    return skill.assign_attrs(attrs)


@pytest.fixture(scope="module")
def scores():
    truth = _truth()
    shape = (6, 4, 10, 16, 16)
    d = np.random.default_rng(1).standard_normal(shape) * np.linspace(0.2, 1.5, 10)[:, None,
                                                                                    None]
    model = {"forecast_mode": "rolling", "forecast_seconds_per_time_unit": 0.02,
             "forecast_num_members": 4, "forecast_network_calls_per_frame": 1.06}
    out = {"a": _forecast(truth, d, model), "b": _forecast(truth, 2 * d, model)}
    for size, cost, scale in ((32, 0.01, 3.0), (64, 0.04, 1.0)):
        out[f"solver_{size}"] = _forecast(truth, scale * d[:, :1], {
            "forecast_mode": "solver", "forecast_simulation_size": size,
            "forecast_solver_backend": "jaxcfd", "forecast_seconds_per_time_unit": cost,
            "forecast_num_members": 1})
    out["persistence"] = _forecast(truth, 4 * d[:, :1], {"forecast_mode": "persistence",
                                                         "forecast_num_members": 1})
    return out


def test_doubled_errors_are_plus_100_percent(scores):
    """b's members deviate from the truth by exactly twice a's, so its ensemble-mean RMSE
    and its fair CRPS (both homogeneous of degree 1 in the deviations) are exactly twice
    a's: +100 % up to float64 rounding (bound 1e-9)."""
    card = scorecard(scores, "a", [0.4, 1.0, 1.6])
    for metric in ("rmse", "crps"):
        np.testing.assert_allclose(card.sel(forecaster="b", metric=metric).values, 100.0,
                                   rtol=0, atol=1e-9)
    assert (card.sel(forecaster="b", metric="decorrelation").values > 0).all()
    assert "a" not in card.forecaster.values
    with pytest.raises(DataError, match="outside"):
        scorecard(scores, "a", [50.0])


def test_the_report_page_has_every_part(scores, tmp_path):
    paths = report_page(scores, tmp_path / "r", baseline="a")
    assert sorted(p.name for p in paths) == ["lead_time.png", "pareto.png", "report.md",
                                             "scorecard.png"]
    page = (tmp_path / "r" / "report.md").read_text()
    assert "| jax-cfd 32² | 1 |" in page and "| jax-cfd 64² | 1 |" in page
    assert "| a | 4 | 4.24 | 0.08 |" in page        # 4 members cost 4 × 0.02 s per t.u.
    assert "| b | fair CRPS | +100.0 %" in page
    assert "## No-skill references" in page and "| persistence | 1 |" in page
    assert "| b − a |" in page                      # the default pair: b against the baseline


def test_the_headline_lists_solvers_by_cost_whatever_the_order_of_the_scores(scores, tmp_path):
    """Given solver_64 before solver_32 (as a sorted glob gives solver_128, solver_32, …),
    the headline listed them in that order."""
    reordered = {n: scores[n] for n in ("a", "solver_64", "solver_32", "persistence")}
    report_page(reordered, tmp_path / "r", baseline="a")
    page = (tmp_path / "r" / "report.md").read_text()
    assert page.index("| jax-cfd 32² | 1 |") < page.index("| jax-cfd 64² | 1 |")


def test_paired_comparisons_are_those_of_the_tables(scores, tmp_path):
    """The page's paired rows are rollflow.analysis.tables.paired_table's, for the pairs
    asked (a solver among them, labelled as in the headline); an unknown name is refused."""
    from rollflow.analysis.tables import paired_table

    report_page(scores, tmp_path / "r", baseline="a", pairs=[("a", "solver_64")])
    page = (tmp_path / "r" / "report.md").read_text()
    expected = paired_table({"a": scores["a"], "jax-cfd 64²": scores["solver_64"]},
                            [("a", "jax-cfd 64²")])
    assert expected[2] in page and "| b − a |" not in page
    with pytest.raises(DataError, match="'absent' is not among the scores"):
        report_page(scores, tmp_path / "x", pairs=[("a", "absent")])


def test_scores_of_other_grids_or_none_are_refused(scores, tmp_path):
    other = dict(scores)
    other["c"] = scores["a"].assign_attrs(grid_size=32)
    with pytest.raises(DataError, match="different evaluation grids"):
        report_page(other, tmp_path / "x")
    with pytest.raises(DataError, match="no scores"):
        report_page({}, tmp_path / "y")


def test_an_embedded_page_keeps_every_line_and_moves_its_links():
    page = "# Title\n\n## Headline\n\n| a | 1 |\n\n![pareto](pareto.png)\n"
    lines = embedded(page, "figures/kf32/report/", depth=2)
    assert lines == ["", "#### Headline", "", "| a | 1 |", "",
                     "![pareto](figures/kf32/report/pareto.png)"]


def test_subset_stores_are_readings_of_their_model(scores, tmp_path):
    """`a_m2` beside `a` is a's 2-member subset: a row "a | 2" in the headline at 2 × a's
    per-member cost, no forecaster of its own (no scorecard row, no default pair); labels
    replace names."""
    subset = dict(scores)
    subset["a_m2"] = scores["a"].assign_attrs(forecast_num_members=2)
    report_page(subset, tmp_path / "r", baseline="a", labels={"a": "model A"})
    page = (tmp_path / "r" / "report.md").read_text()
    assert "| model A | 2 | 2.12 | 0.04 |" in page
    assert "a_m2" not in page and "| b − model A |" in page


def test_spectral_error_panels_use_a_log_axis(scores):
    """The climatology's spectral error is 10–100× a forecast's: on a linear axis every
    forecast's line lay flat on zero (the KF32 page, 2026-12-03)."""
    from rollflow.analysis.scorecard import plot_lead_panels

    axes = plot_lead_panels(scores, {"persistence": "reference"}).axes
    assert [ax.get_yscale() for ax in axes] == ["linear"] * 4 + ["log"] * 2
    assert axes[4].get_title().startswith("spectral error")


def test_report_command_names_every_store_and_option():
    from rollflow.analysis.report import report_command

    assert report_command("s", ["a", "b"], "o", title="T", baseline="a",
                          pairs=[("a", "b"), ("b", "c")]) == (
        "rollflow report s/{a,b}.nc --out o --title 'T' --baseline a --pair a b --pair b c")
    assert report_command("s", ["a"], "o") == "rollflow report s/a.nc --out o"
