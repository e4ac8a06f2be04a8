"""Figures of the evaluation: vorticity panels, spectra, correlation, spread/error, growth.

Every function draws on a given matplotlib `ax` (or makes its own `Figure`, without pyplot,
so nothing depends on a GUI backend) and returns the figure; `save_figure` writes a PNG
with the Agg renderer. In a notebook the returned figure displays itself.

Curves: the plotted dim is `dim`; an optional `label_dim` (e.g. `model`) gives one line
per value; any other dims are summarised by their mean with a shaded 10–90 % band.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from rollflow.analysis._checks import require_dims
from rollflow.analysis.colormaps import VORTICITY_CMAP
from rollflow.conventions import K, LEAD_TIME, MEMBER, TIME, X, Y
from rollflow.errors import DataError

__all__ = ["plot_vorticity", "plot_spectrum", "plot_correlation", "plot_spread_skill",
           "plot_separation", "plot_pareto", "save_figure"]


def _figure_and_ax(ax, figsize=(5.0, 3.8)):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _curves(data: xr.DataArray, dim: str, label_dim: str | None):
    """Yield (label, x, mean, low, high) per label, summarising the other dims."""
    require_dims(data, dim, "plotted data")
    labels = [None] if label_dim is None else list(data[label_dim].values)
    for label in labels:
        curve = data if label is None else data.sel({label_dim: label})
        rest = [d for d in curve.dims if d != dim]
        values = curve.transpose(*rest, dim).values.reshape(-1, curve.sizes[dim])
        with np.errstate(invalid="ignore"):
            low, high = np.nanquantile(values, [0.1, 0.9], axis=0)
        yield label, curve[dim].values, np.nanmean(values, axis=0), low, high


def _draw_curves(ax, data, dim, label_dim, log=False):
    """Mean curve per label; a shaded 10–90 % band over the summarised dims, named once
    in the legend (e.g. "10–90 % over sample, member")."""
    rest = [d for d in data.dims if d not in (dim, label_dim)]
    band_label = f"10–90 % over {', '.join(rest)}" if rest else None
    for label, x, mean, low, high in _curves(data, dim, label_dim):
        line, = ax.plot(x, mean, label=None if label is None else str(label))
        if not np.allclose(low, high, equal_nan=True):
            ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, lw=0,
                            label=band_label)
            band_label = None
    if log:
        ax.set_yscale("log")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=label_dim, fontsize="small")


def plot_vorticity(truth: xr.DataArray, members: xr.DataArray | None = None, *,
                   member_dim: str = MEMBER, max_members: int = 3, axes=None,
                   cmap: str | Colormap = VORTICITY_CMAP, truth_label: str = "truth", x: str = X,
                   y: str = Y, title: str | None = None) -> Figure:
    """Truth next to up to `max_members` ensemble members, one shared symmetric colour scale.

    Args:
        truth: one field with dims exactly (x, y) (select sample and time first).
        members: optional (member, x, y) fields on the same grid.
        axes: optional sequence of 1 + number of shown members matplotlib axes.
        cmap: colour map; default the perceptually uniform diverging `VORTICITY_CMAP`.
        truth_label: title of the first panel.
        title: figure title (e.g. which sample and lead time are shown).

    Returns:
        The figure; x runs along the horizontal axis and y up (origin lower).
    """
    require_dims(truth, (x, y), "truth")
    fields = [(truth_label, truth)]
    if members is not None:
        require_dims(members, (member_dim, x, y), "members")
        total = members.sizes[member_dim]
        for i in range(min(max_members, total)):
            fields.append((f"member {i} of {total}", members.isel({member_dim: i})))
    for name, field in fields:
        if set(field.dims) != {x, y}:
            raise DataError(f"{name} must have dims ({x}, {y}) only; got {field.dims}")
    if axes is None:
        fig = Figure(figsize=(3.2 * len(fields) + 0.8, 3.2), layout="constrained")
        axes = fig.subplots(1, len(fields), squeeze=False)[0]
    elif len(axes) != len(fields):
        raise DataError(f"need {len(fields)} axes, got {len(axes)}")
    fig = axes[0].figure
    vmax = max(float(np.abs(f).max()) for _, f in fields) or 1.0
    for ax, (name, field) in zip(axes, fields):
        image = ax.imshow(field.transpose(y, x).values, origin="lower", cmap=cmap,
                          vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].set_xlabel(f"{x} →")
    axes[0].set_ylabel(f"{y} →")
    fig.colorbar(image, ax=list(axes), shrink=0.85, label="vorticity ω (1/t.u.)")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_spectrum(spectrum: xr.DataArray, *, label_dim: str | None = None, ax=None,
                  reference_slope: float | None = -3.0, reference_k: float = 8.0,
                  k_max: float | None = None) -> Figure:
    """E(k) on log–log axes (k ≥ 1) with a k^slope reference line near the first curve.

    Args:
        spectrum: from `energy_spectrum`, dim `k` (other dims: label_dim and/or summarised).
        reference_slope: slope of the dashed reference line (None: no line).
        reference_k: wavenumber where the reference line is anchored (3× above the curve).
        k_max: last shell drawn, e.g. N/2 (shells beyond the inscribed circle |k| ≤ N/2 are
            only partly filled and drop off); default all.
    """
    require_dims(spectrum, K, "spectrum")
    fig, ax = _figure_and_ax(ax)
    keep = spectrum[K] >= 1 if k_max is None else (spectrum[K] >= 1) & (spectrum[K] <= k_max)
    data = spectrum.sel({K: keep})
    _draw_curves(ax, data, K, label_dim, log=True)
    ax.set_xscale("log")
    if reference_slope is not None:
        _, k, mean, _, _ = next(_curves(data, K, label_dim))
        anchor = np.interp(reference_k, k, mean)
        ks = k[(k >= reference_k / 2) & (k <= 4 * reference_k)]
        ax.plot(ks, 3 * anchor * (ks / reference_k) ** reference_slope, "k--", lw=1,
                label=f"$k^{{{reference_slope:g}}}$")
        ax.legend(fontsize="small")
    ax.set_xlabel("wavenumber k (shell index, 2π/L units)")
    ax.set_ylabel("E(k) (L²/t.u.² per shell; Σ E = KE)")
    return fig


def plot_correlation(correlation: xr.DataArray, *, thresholds: Sequence[float] = (0.95, 0.9, 0.8),
                     dim: str = TIME, label_dim: str | None = None, ax=None,
                     title: str | None = None) -> Figure:
    """ρ(t) with dotted horizontal lines at the decorrelation thresholds, each labelled."""
    fig, ax = _figure_and_ax(ax)
    _draw_curves(ax, correlation, dim, label_dim)
    for level in thresholds:
        ax.axhline(level, color="grey", ls=":", lw=1)
        ax.annotate(f"ρ = {level:g}", (1.0, level), xycoords=("axes fraction", "data"),
                    xytext=(-2, 2), textcoords="offset points", ha="right", fontsize=7,
                    color="grey")
    ax.set_xlabel(f"{dim} (t.u.)")
    ax.set_ylabel("vorticity correlation ρ")
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def plot_spread_skill(scores: xr.Dataset, *, dim: str = LEAD_TIME, ax=None) -> Figure:
    """Ensemble-mean RMSE and spread vs `dim`, from `spread_skill` (other dims summarised);
    with a `spread_skill` variable also the ratio on a right-hand axis, a dashed line at
    1 marking a calibrated ensemble."""
    for name in ("rmse", "spread"):
        if name not in scores:
            raise DataError(f"scores need a {name!r} variable (from spread_skill)")
    fig, ax = _figure_and_ax(ax)
    data = xr.concat([scores.rmse, scores.spread], dim="score").assign_coords(
        score=["RMSE of mean", "spread"])
    _draw_curves(ax, data, dim, "score")
    ax.set_xlabel(f"{dim} (t.u.)")
    ax.set_ylabel("vorticity (1/t.u.)")
    if "spread_skill" in scores:
        right = ax.twinx()
        ratio = scores.spread_skill
        extra = [d for d in ratio.dims if d != dim]
        ratio = ratio.mean(extra) if extra else ratio
        right.plot(ratio[dim].values, ratio.values, color="0.3", lw=1.2,
                   label="spread/skill (right)")
        right.axhline(1.0, color="0.3", ls="--", lw=0.8, label="calibrated (ratio 1)")
        right.set_ylabel("spread–skill ratio")
        right.set_ylim(0.0, max(1.5, float(np.nanmax(ratio.values)) * 1.1))
        lines = ax.get_legend_handles_labels()
        more = right.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper left")
    return fig


def plot_separation(growth: xr.Dataset, *, dim: str = TIME, ax=None) -> Figure:
    """Separation curves (log axis) with each fitted exponential drawn over its window."""
    if "separation" not in growth or "growth_rate" not in growth:
        raise DataError("growth must come from separation_growth/fit_growth")
    fig, ax = _figure_and_ax(ax)
    curves = growth.separation
    rest = [d for d in curves.dims if d != dim]
    stacked = curves.stack(curve=rest) if rest else curves.expand_dims(curve=[0])
    fit = growth.drop_vars("separation")
    fit = fit.stack(curve=rest) if rest else fit.expand_dims(curve=[0])
    times = curves[dim].values
    for i in range(stacked.sizes["curve"]):
        line, = ax.plot(times, stacked.isel(curve=i).values, lw=1)
        one = fit.isel(curve=i)
        if np.isfinite(float(one.growth_rate)):
            t = times[(times >= float(one.fit_start)) & (times <= float(one.fit_end))]
            ax.plot(t, np.exp(float(one.fit_intercept) + float(one.growth_rate) * t), "--",
                    color=line.get_color(), lw=2)
    rate = fit.growth_rate.values[np.isfinite(fit.growth_rate.values)]
    ax.set_yscale("log")
    ax.set_title(f"λ = {rate.mean():.3f} ± {rate.std():.3f} per t.u." if rate.size
                 else "no exponential regime found")
    ax.set_xlabel(f"{dim} (t.u.)")
    ax.set_ylabel("‖δω‖ / ‖ω‖")
    return fig


def plot_pareto(points: xr.Dataset, *, threshold: float = 0.8, ax=None) -> Figure:
    """Skill against honest cost: decorrelation time vs seconds per simulated t.u.

    Args:
        points: Dataset along a `model` dim with `cost` (s per simulated t.u. per
            trajectory, **all members** a reading averages), `estimate`, `lower`, `upper`
            (decorrelation time at `threshold`, t.u.) and `kind`: "solver" (one line per
            `group`, e.g. per solver backend: the accuracy–cost frontier a numerical
            method offers), "ensemble" (the
            points of one `group` joined as a curve, e.g. M = 1, 2, 4, 8 members of one
            model) or "model" (single points). Optional `label` (str) annotates a point
            (default: its `model` name). Points of zero cost (persistence) cannot sit on a
            log axis and are left out, with a note.
    """
    for name in ("cost", "estimate", "lower", "upper", "kind"):
        if name not in points:
            raise DataError(f"pareto points need a {name!r} variable")
    fig, ax = _figure_and_ax(ax, figsize=(6.0, 4.4))
    free = points["cost"].values <= 0
    dropped = [str(m) for m in points["model"].values[free]]
    points = points.isel(model=np.flatnonzero(~free))
    kinds = points["kind"].values.astype(str)
    labels = (points["label"].values.astype(str) if "label" in points
              else points["model"].values.astype(str))
    groups = (points["group"].values.astype(str) if "group" in points
              else points["model"].values.astype(str))
    styles = {"solver": dict(color="k", marker="s", ls="-"),
              "model": dict(marker="D", ls="none")}
    solver_styles = iter([dict(color="k", marker="s", ls="-"),
                          dict(color="0.45", marker="^", ls="--"),
                          dict(color="0.7", marker="v", ls=":")] * 4)
    solver_groups = dict.fromkeys(groups[kinds == "solver"]) if "group" in points \
        else {"solvers": None}
    series = [((g or "solvers") if "group" in points else "solvers", "solver",
               np.flatnonzero((kinds == "solver") & ((groups == g) | ("group" not in points))))
              for g in solver_groups]
    series += [(g, "ensemble", np.flatnonzero((kinds == "ensemble") & (groups == g)))
               for g in dict.fromkeys(groups[kinds == "ensemble"])]
    series += [(str(labels[i]), "model", [i]) for i in np.flatnonzero(kinds == "model")]
    for name, kind, index in series:
        if len(index) == 0:
            continue
        sel = points.isel(model=list(index))
        order = np.argsort(sel["cost"].values)
        sel = sel.isel(model=order)
        est = sel["estimate"].values
        with np.errstate(invalid="ignore"):      # T = ∞ (ρ never fell below c): no bar
            err = np.vstack([est - sel["lower"].values, sel["upper"].values - est])
        err = np.where(np.isfinite(err), err, 0.0)
        style = next(solver_styles) if kind == "solver" else styles.get(
            kind, dict(marker="o", ls="-"))
        ax.errorbar(sel["cost"].values, est, yerr=err, capsize=3, label=name, **style)
        if kind != "model":
            for i, x, y in zip(np.asarray(index)[order], sel["cost"].values, est):
                ax.annotate(str(labels[i]), (x, y), textcoords="offset points",
                            xytext=(5, 4), fontsize=7)
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())   # minor labels collide on a short axis
    ax.set_xlabel("seconds per simulated t.u. per trajectory, all members (this CPU)")
    ax.set_ylabel(f"T$_{{{threshold:g}}}$: first lead with ρ < {threshold:g} (t.u.)")
    note = f"; not drawn (cost 0): {', '.join(dropped)}" if dropped else ""
    ax.set_title(f"skill vs honest cost: an M-member mean costs M members (95 % CI){note}",
                 fontsize=8)
    ax.legend(fontsize=7)
    return fig


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Write `fig` as a PNG with the Agg renderer (creating parent folders); returns path.

    The PNG is written to a hidden temporary name and renamed into place, so a failed
    write (a full disk) leaves no empty or partial file at `path`."""
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fig.savefig(tmp, dpi=dpi, format="png")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path

