"""Every plot draws on a given ax or its own figure and saves a PNG."""

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure
from synthetic import field

from rollflow.analysis import (
    energy_spectrum, fit_growth, plot_correlation, plot_separation, plot_spectrum,
    plot_spread_skill, plot_vorticity, save_figure, spread_skill,
)
from rollflow.errors import DataError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _saved(fig, tmp_path, name):
    path = save_figure(fig, tmp_path / "sub" / f"{name}.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    return path


def test_vorticity_panels_share_symmetric_limits(rng, tmp_path):
    truth = field(rng.standard_normal((8, 8)), dims=("x", "y"))
    members = xr.concat([3 * truth, -truth, truth, truth], dim="member")
    fig = plot_vorticity(truth, members, max_members=2)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3
    limits = {im.get_clim() for im in images}
    assert len(limits) == 1
    low, high = limits.pop()
    assert low == -high == pytest.approx(-3 * float(abs(truth).max()))
    _saved(fig, tmp_path, "vorticity")
    with pytest.raises(DataError, match="dims"):
        plot_vorticity(truth.expand_dims(time=2))


def test_spectrum_plot_log_axes_and_reference(rng, tmp_path):
    w = field(rng.standard_normal((2, 32, 32)), dims=("model", "x", "y"))
    spectrum = energy_spectrum(w).assign_coords(model=["truth", "pred"])
    fig = plot_spectrum(spectrum, label_dim="model", k_max=16)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert any("k^{-3}" in line.get_label() for line in ax.lines)
    assert max(ax.lines[0].get_xdata()) == 16
    _saved(fig, tmp_path, "spectrum")


def test_curves_on_a_given_ax(rng, tmp_path):
    fig = Figure()
    ax = fig.add_subplot()
    t = np.arange(20) * 0.2
    rho = xr.DataArray(1 - 0.03 * t * rng.uniform(0.5, 1.5, (5, 1)), dims=("sample", "time"),
                       coords={"time": t})
    assert plot_correlation(rho, ax=ax) is fig
    assert len(ax.collections) == 1            # the 10–90 % band over samples
    _saved(fig, tmp_path, "correlation")


def test_spread_skill_and_separation_plots(rng, tmp_path):
    truth = field(rng.standard_normal((3, 4, 8, 8)), dims=("sample", "lead_time", "x", "y"))
    forecast = truth + field(rng.standard_normal((3, 5, 4, 8, 8)),
                             dims=("sample", "member", "lead_time", "x", "y"))
    scores = spread_skill(forecast, truth, mean_dims=("sample", "x", "y"))
    _saved(plot_spread_skill(scores), tmp_path, "spread")
    t = np.arange(101) * 0.2
    curve = xr.DataArray(1e-5 * np.exp(0.7 * t) / (1 + 1e-5 * np.exp(0.7 * t) / 1.4),
                         dims="time", coords={"time": t})
    fig = plot_separation(fit_growth(curve))
    assert len(fig.axes[0].lines) == 2           # curve and fitted exponential
    assert "λ = 0.69" in fig.axes[0].get_title()
    _saved(fig, tmp_path, "separation")


def test_pareto_draws_solvers_as_a_line_ensembles_as_curves_and_models_as_points(tmp_path):
    """Bug: on a log axis spanning two decades the minor ticks were labelled too and the
    labels ran into each other (docs/figures/kf32/pareto.png); only major ticks are
    labelled now. Issue 14: an M-member ensemble mean is drawn at M members' cost, the
    members of one model joined as a curve."""
    from matplotlib.ticker import NullFormatter

    from rollflow.analysis import plot_pareto

    points = xr.Dataset(
        {"cost": ("model", [0.8, 0.02, 0.09, 0.31, 0.62, 2.48, 0.019, 0.0]),
         "estimate": ("model", [5.7, 1.6, 4.5, 3.9, 4.1, 4.4, 3.3, 0.3]),
         "lower": ("model", [5.3, 1.4, 4.1, 3.6, 3.8, 4.1, 3.1, 0.2]),
         "upper": ("model", [6.1, 1.7, 4.8, 4.2, 4.4, 4.6, 3.7, 0.4]),
         "kind": ("model", ["solver"] * 3 + ["ensemble"] * 3 + ["model"] * 2),
         "group": ("model", [""] * 3 + ["rolling"] * 3 + [""] * 2),
         "label": ("model", ["128²", "32²", "64²", "M=1", "M=2", "M=8", "determ.", "pers."])},
        coords={"model": ["s128", "s32", "s64", "r1", "r2", "r8", "det", "persistence"]})
    fig = plot_pareto(points)
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [0.02, 0.09, 0.8])     # solvers
    np.testing.assert_array_equal(lines[1].get_xdata(), [0.31, 0.62, 2.48])    # ensemble
    assert ax.get_xscale() == "log"
    assert isinstance(ax.xaxis.get_minor_formatter(), NullFormatter)
    assert sorted(t.get_text() for t in ax.texts) == ["128²", "32²", "64²", "M=1", "M=2",
                                                      "M=8"]
    assert "persistence" in ax.get_title()          # cost 0 cannot sit on a log axis
    _saved(fig, tmp_path, "pareto")
    with pytest.raises(DataError, match="cost"):
        plot_pareto(points.drop_vars("cost"))


def test_pareto_draws_one_line_per_solver(tmp_path):
    """Issue 18: with solver lines from two backends the difference is visible: each
    solver group is its own line, named in the legend."""
    from rollflow.analysis import plot_pareto

    cost = [0.01, 0.04, 0.3, 0.008, 0.035, 0.2]
    points = xr.Dataset(
        {"cost": ("model", cost), "estimate": ("model", [1.5, 4.4, 5.7, 1.4, 4.3, 5.6]),
         "lower": ("model", [1.4, 4.2, 5.5, 1.3, 4.1, 5.4]),
         "upper": ("model", [1.6, 4.6, 5.9, 1.5, 4.5, 5.8]),
         "kind": ("model", ["solver"] * 6),
         "group": ("model", ["jax-cfd"] * 3 + ["exponax"] * 3)},
        coords={"model": ["j32", "j64", "j128", "e32", "e64", "e128"]})
    ax = plot_pareto(points).axes[0]
    drawn = [line for line in ax.get_lines() if line.get_linestyle() in ("-", "--")]
    assert [list(line.get_xdata()) for line in drawn] == [cost[:3], cost[3:]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["jax-cfd", "exponax"]
    _saved(plot_pareto(points), tmp_path, "pareto_backends")


def test_a_failed_figure_write_leaves_no_file(tmp_path, monkeypatch):
    """Bug (issue 15): a full disk left a 0-byte figure behind."""
    import errno

    import matplotlib.figure

    from rollflow.analysis import save_figure

    fig = matplotlib.figure.Figure()
    fig.add_subplot().plot([0, 1])

    def full(self, fname, **kwargs):
        open(fname, "wb").close()                      # the file exists, empty, then …
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)
    with pytest.raises(OSError):
        save_figure(fig, tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == []


def test_plot_kinds_listed_by_the_cli_are_the_library_kinds():
    from rollflow.analysis.figures import FIGURE_KINDS
    from rollflow.cli.plot import KIND_NAMES

    assert sorted(FIGURE_KINDS) == KIND_NAMES
