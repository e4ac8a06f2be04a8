"""Scorecards and lead-time panels of several scored forecasts (issue 16).

A scorecard shows, per forecaster, metric and lead time, the percentage difference against
a baseline forecaster, as WeatherBench 2 does: 100 · (m − b) / b for metrics where lower is
better — the ensemble mean's RMSE, the fair CRPS and 1 − ρ of the ensemble mean — so that
negative (blue) is better than the baseline and positive (red) worse. Inputs are
`headline_skill` Datasets (as `rollflow evaluate --out` writes them) of the same states.

Pure numpy/xarray/matplotlib (no pyplot).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from rollflow.analysis.colormaps import VORTICITY_CMAP
from rollflow.conventions import LEAD_TIME, TIME
from rollflow.errors import DataError

__all__ = ["SCORECARD_METRICS", "lead_curves", "scorecard", "plot_scorecard",
           "plot_lead_panels"]

SCORECARD_METRICS = {"rmse": "RMSE of the ensemble mean", "crps": "fair CRPS",
                     "decorrelation": "1 − ρ of the ensemble mean",
                     "spectral_error_small": "spectral error, smallest-scale band"}


def lead_curves(skill: xr.Dataset) -> xr.Dataset:
    """RMSE, CRPS (when the forecast has members), 1 − ρ and ρ of the ensemble mean, the
    spread–skill ratio and the per-band spectral error (all bands, and the smallest-scale
    band alone) of one `headline_skill` Dataset, each along `lead_time` (t.u.)."""
    out = {}
    for name in ("rmse", "crps", "spread_skill"):
        if name in skill:
            curve = skill[name]
            if TIME in curve.dims:
                curve = curve.swap_dims({TIME: LEAD_TIME}).drop_vars(TIME, errors="ignore")
            out[name] = curve
    if "spectral_error" in skill:                      # (time, band): per-frame band error
        bands = skill["spectral_error"]
        if TIME in bands.dims:
            bands = bands.swap_dims({TIME: LEAD_TIME}).drop_vars(TIME, errors="ignore")
        out["spectral_error"] = bands
        out["spectral_error_small"] = bands.isel(band=-1, drop=True)
    rho = skill["mean_correlation"]
    out["correlation"] = rho
    out["decorrelation"] = 1 - rho
    return xr.Dataset(out)


def scorecard(scores: Mapping[str, xr.Dataset], baseline: str,
              leads: Sequence[float]) -> xr.DataArray:
    """% difference (forecaster, metric, lead) of each forecaster against `baseline` at
    `leads` (t.u., linearly interpolated), for the metrics of SCORECARD_METRICS that both
    have. DataError for an unknown baseline or leads outside its lead times."""
    if baseline not in scores:
        raise DataError(f"baseline {baseline!r} is not among the scores "
                        f"({', '.join(scores)})")
    base = lead_curves(scores[baseline])
    span = base[LEAD_TIME].values
    if min(leads) < span.min() - 1e-9 or max(leads) > span.max() + 1e-9:
        raise DataError(f"scorecard leads {list(leads)} lie outside the baseline's lead times "
                        f"{span.min():g} … {span.max():g} t.u.")
    names = [n for n in scores if n != baseline]
    values = np.full((len(names), len(SCORECARD_METRICS), len(leads)), np.nan)
    for i, name in enumerate(names):
        curves = lead_curves(scores[name])
        for j, metric in enumerate(SCORECARD_METRICS):
            if metric in curves and metric in base:
                m = curves[metric].interp({LEAD_TIME: list(leads)}).values
                b = base[metric].interp({LEAD_TIME: list(leads)}).values
                with np.errstate(divide="ignore", invalid="ignore"):
                    values[i, j] = np.where(b > 0, 100 * (m - b) / b, np.nan)
    return xr.DataArray(values, dims=("forecaster", "metric", LEAD_TIME),
                        coords={"forecaster": names, "metric": list(SCORECARD_METRICS),
                                LEAD_TIME: list(leads)},
                        name="percent_difference",
                        attrs={"baseline": baseline, "units": "%",
                               "description": "100 (m − b)/b; negative: better than the "
                                              "baseline"})


def plot_scorecard(card: xr.DataArray, labels: Mapping[str, str] | None = None) -> Figure:
    """One heat map per metric: forecasters × leads, blue better / red worse than the
    baseline, each cell annotated with its % (colour scale symmetric, capped at 50 %)."""
    labels = labels or {}
    metrics = list(card["metric"].values)
    fig = Figure(figsize=(3.2 * len(metrics), 0.5 + 0.45 * max(1, card.sizes["forecaster"])),
                 layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    finite = np.abs(card.values[np.isfinite(card.values)])
    limit = float(min(50.0, finite.max())) if finite.size and finite.max() > 0 else 1.0
    rows = [labels.get(str(n), str(n)) for n in card["forecaster"].values]
    for ax, metric in zip(axes, metrics):
        data = card.sel(metric=metric).values
        image = ax.imshow(data, cmap=VORTICITY_CMAP, vmin=-limit, vmax=limit, aspect="auto")
        ax.set_xticks(range(card.sizes[LEAD_TIME]),
                      [f"{v:g}" for v in card[LEAD_TIME].values], fontsize=7)
        ax.set_yticks(range(len(rows)), rows if ax is axes[0] else [""] * len(rows),
                      fontsize=7)
        ax.set_xlabel("lead time (t.u.)", fontsize=7)
        ax.set_title(SCORECARD_METRICS.get(str(metric), str(metric)), fontsize=8)
        for (i, j), value in np.ndenumerate(data):
            if np.isfinite(value):
                ax.text(j, i, f"{value:+.0f}", ha="center", va="center", fontsize=6,
                        color="w" if abs(value) > 0.6 * limit else "k")
    fig.colorbar(image, ax=list(axes), label=f"% vs {card.attrs['baseline']}", shrink=0.8)
    return fig


def plot_lead_panels(scores: Mapping[str, xr.Dataset], roles: Mapping[str, str],
                     labels: Mapping[str, str] | None = None) -> Figure:
    """ρ, RMSE, CRPS and spread–skill of the ensemble mean against lead time, and the
    per-frame spectral error of the largest- and the smallest-scale octave band (log axis),
    one line per forecaster; the "no skill" references (role "reference") dashed grey, the solvers
    (role "solver") in black, so that every panel shows where skill ends."""
    labels = labels or {}
    panels = [("correlation", "ρ of the ensemble mean"), ("rmse", "RMSE (1/t.u.)"),
              ("crps", "fair CRPS (1/t.u.)"), ("spread_skill", "spread–skill ratio"),
              (0, "spectral error |ln E_b/E_b,truth|, band "),
              (-1, "spectral error |ln E_b/E_b,truth|, band ")]
    fig = Figure(figsize=(13.0, 7.0), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    greys = iter(["k", "0.3", "0.5", "0.7"] * 4)
    band_names = {}
    for name, skill in scores.items():
        curves = lead_curves(skill)
        role = roles.get(name, "model")
        style = ({"reference": dict(color="0.55", ls="--"),
                  "solver": dict(color=next(greys), ls=":", lw=1.6)}.get(role, {}))
        for ax, (metric, _) in zip(axes, panels):
            if isinstance(metric, int):
                if "spectral_error" not in curves:
                    continue
                curve = curves["spectral_error"].isel(band=metric)
                band_names[metric] = str(curve["band"].values)
            elif metric in curves:
                curve = curves[metric]
            else:
                continue
            ax.plot(curve[LEAD_TIME].values, curve.values, label=labels.get(name, name),
                    **{"lw": 1.2, **style})
    for ax, (metric, title) in zip(axes, panels):
        ax.set_title(title + band_names.get(metric, "") if isinstance(metric, int) else title,
                     fontsize=9)
        ax.set_xlabel("lead time (t.u.)", fontsize=8)
        if isinstance(metric, int):    # the climatology's error is 10-100× the forecasts'
            ax.set_yscale("log")
    axes[3].axhline(1.0, color="0.8", lw=0.8)
    axes[0].legend(fontsize=6)
    return fig
