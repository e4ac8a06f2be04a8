"""Figures from stores' DataArrays: the standard set of one scored forecast (correlation,
spectra, spread–skill, a vorticity panel: `rollflow evaluate --figures`, the demo) and one
figure of a named kind (`rollflow plot --kind`), and the overlays that compare several
scored forecasts of the same states (`comparison_figures`, results pages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rollflow.conventions import LEAD_TIME, MEMBER, MODEL, SAMPLE, TIME
from rollflow.errors import DataError

__all__ = ["standard_figures", "comparison_figures", "figure_of_kind", "FIGURE_KINDS",
           "time_dim"]


def standard_figures(scores, forecast, truth, directory: str | Path) -> list[Path]:
    """Correlation, spectra, spread–skill and vorticity-panel PNGs; returns their paths."""
    import xarray as xr

    from rollflow.analysis import (plot_correlation, plot_spectrum, plot_spread_skill,
                                   plot_vorticity, save_figure)
    from rollflow.analysis.scores import align_truth

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lead_dim = "lead_time" if "lead_time" in scores.coords else "time"
    rho = scores.correlation.swap_dims(time=lead_dim) if lead_dim != "time" else scores.correlation
    paths = [save_figure(plot_correlation(
        rho, dim=lead_dim, title=f"ρ per sample and member ({forecast.sizes['member']} "
                                 f"members, {forecast.sizes['sample']} samples)"),
        directory / "correlation.png")]
    spectra = xr.concat([scores.energy_spectrum_truth, scores.energy_spectrum_forecast],
                        dim="model").assign_coords(model=["truth", "forecast"])
    paths.append(save_figure(plot_spectrum(spectra, label_dim="model",
                                           k_max=forecast.sizes["x"] // 2),
                             directory / "spectrum.png"))
    if "spread" in scores:
        skill = scores[["rmse", "spread"]]
        skill = skill.swap_dims(time=lead_dim) if lead_dim != "time" else skill
        paths.append(save_figure(plot_spread_skill(skill, dim=lead_dim),
                                 directory / "spread_skill.png"))
    aligned = align_truth(forecast, truth)
    middle = forecast.sizes["time"] // 2
    shown = forecast.isel(sample=0, time=middle)
    lead = float(shown[lead_dim]) if lead_dim in shown.coords else float(shown["time"])
    panel = plot_vorticity(aligned.isel(sample=0, time=middle), shown,
                           title=f"sample {int(shown['sample'])}, lead {lead:.1f} t.u. "
                                 f"(t = {float(shown['time']):.1f} t.u.)")
    paths.append(save_figure(panel, directory / "vorticity.png"))
    return paths


def comparison_figures(scores, labels, directory: str | Path, *, pareto=None,
                       k_max: int = 16) -> list[Path]:
    """Overlays of several `headline_skill` Datasets (name → Dataset, `labels` name →
    legend text) of the same states: ensemble-mean ρ against lead time (correlation.png),
    energy spectra with the truth's (spectrum.png), spread–skill of each forecast with
    members (spread_<name>.png) and, given `pareto` points (`readings.pareto_points`),
    skill against honest cost (pareto.png). Returns the paths written."""
    import xarray as xr

    from rollflow.analysis import (plot_correlation, plot_pareto, plot_spectrum,
                                   plot_spread_skill, save_figure)

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = list(scores)
    curves = xr.concat([scores[n].mean_correlation for n in names], dim=MODEL)
    paths = [save_figure(plot_correlation(curves.assign_coords({MODEL: [labels[n] for n in names]}),
                                          dim=LEAD_TIME, label_dim=MODEL),
                         directory / "correlation.png")]
    spectra = xr.concat([scores[names[0]].energy_spectrum_truth]
                        + [scores[n].energy_spectrum_forecast for n in names], dim=MODEL)
    spectra = spectra.assign_coords({MODEL: ["truth"] + [labels[n] for n in names]})
    paths.append(save_figure(plot_spectrum(spectra, label_dim=MODEL, k_max=k_max),
                             directory / "spectrum.png"))
    for name in names:
        if "spread" in scores[name]:
            skill = scores[name][["rmse", "spread", "spread_skill"]].swap_dims({TIME: LEAD_TIME})
            paths.append(save_figure(plot_spread_skill(skill), directory / f"spread_{name}.png"))
    if pareto is not None:
        paths.append(save_figure(plot_pareto(pareto), directory / "pareto.png"))
    return paths


def time_dim(data) -> str:
    """`lead_time` if it is a dim of `data`, else `time`."""
    return LEAD_TIME if LEAD_TIME in data.dims else TIME


def _matched_truth(truth, forecast):
    """Truth at the forecast's samples (exact) and times (within 1e-6 t.u.)."""
    if truth is None:
        raise DataError("this kind needs --truth TRUTH_STORE")
    dim = time_dim(forecast)
    try:
        if SAMPLE in forecast.coords and SAMPLE in truth.coords:
            truth = truth.sel({SAMPLE: forecast[SAMPLE].values})
        if dim in forecast.coords and dim in truth.coords:
            truth = truth.sel({dim: forecast[dim].values}, method="nearest", tolerance=1e-6)
            truth = truth.assign_coords({dim: forecast[dim].values})
    except KeyError as err:
        raise DataError(f"the truth store lacks coordinate values of the plotted store: "
                        f"{err}") from None
    return truth


def _by_lead_time(data):
    """Use a `lead_time` coordinate along `time` (forecast stores) as the plotted axis."""
    if LEAD_TIME in data.coords and data[LEAD_TIME].dims == (TIME,):
        return data.swap_dims({TIME: LEAD_TIME}), LEAD_TIME
    return data, time_dim(data)


def _spectrum(field, truth, sample, time):
    from rollflow.analysis import energy_spectrum, plot_spectrum
    averaged = [d for d in field.dims if d in (SAMPLE, TIME, LEAD_TIME, MEMBER)]
    spectrum = energy_spectrum(field, average_dims=tuple(averaged))
    return plot_spectrum(spectrum, label_dim=MODEL if MODEL in spectrum.dims else None)


def _vorticity_panels(field, truth, sample, time):
    from rollflow.analysis import plot_vorticity
    dim = time_dim(field)
    frame = {SAMPLE: sample, dim: time}
    pick = {d: v for d, v in frame.items() if d in field.dims}
    try:
        if truth is not None and MEMBER in field.dims:
            members = field.sel(pick, method="nearest")
            reference = _matched_truth(truth, field).sel(pick, method="nearest")
            return plot_vorticity(reference, members)
        return plot_vorticity(field.sel(pick, method="nearest").squeeze(drop=True))
    except KeyError as err:
        raise DataError(f"no frame at {pick}: {err}") from None


def _correlation(field, truth, sample, time):
    from rollflow.analysis import plot_correlation, vorticity_correlation
    rho, dim = _by_lead_time(vorticity_correlation(field, _matched_truth(truth, field)))
    return plot_correlation(rho, dim=dim, label_dim=MODEL if MODEL in rho.dims else None)


def _spread(field, truth, sample, time):
    from rollflow.analysis import plot_spread_skill, spread_skill
    mean_dims = tuple(d for d in field.dims if d in (SAMPLE, "x", "y"))
    scores, dim = _by_lead_time(spread_skill(field, _matched_truth(truth, field),
                                             mean_dims=mean_dims))
    return plot_spread_skill(scores, dim=dim)


def _separation(field, truth, sample, time):
    from rollflow.analysis import plot_separation, separation_growth
    dim = time_dim(field)
    return plot_separation(separation_growth(field, dim=dim), dim=dim)


FIGURE_KINDS = {"spectrum": _spectrum, "vorticity": _vorticity_panels, "correlation": _correlation,
         "spread": _spread, "separation": _separation}


def figure_of_kind(kind: str, field: Any, truth: Any = None, *, sample: int = 0,
                   time: float = 0.0) -> Any:
    """One figure of `kind` (see `rollflow plot --help`) of `field`, against `truth` where
    the kind needs one; `sample`, `time` pick the vorticity frame."""
    if kind not in FIGURE_KINDS:
        raise DataError(f"unknown figure kind {kind!r} (one of {', '.join(FIGURE_KINDS)})")
    return FIGURE_KINDS[kind](field, truth, sample, time)
