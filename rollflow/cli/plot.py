"""`rollflow plot STORE --kind KIND --out FILE.png`: evaluation figures from stores.

Kinds:
  spectrum     time- and sample-averaged E(k) (log–log, k⁻³ line); one curve per `model`
               if the store has that dim, members averaged too.
  vorticity    one frame (--sample, --time); with --truth and a `member` dim in STORE:
               the truth next to the first members, shared symmetric colour scale.
  correlation  ρ(t) of STORE's vorticity against --truth, per sample (and member),
               with the 0.95/0.9/0.8 threshold lines.
  spread       ensemble-mean RMSE and spread vs time of STORE (a `member` dim) against
               --truth.
  separation   relative separation of STORE's members and its fitted exponential growth.

STORE and --truth are opened with `rollflow.store.open_trajectories` (lazily); the truth
is matched to STORE by its `sample` and time coordinate values. The time dim is
`lead_time` if STORE has it, else `time`; curves are drawn against a `lead_time`
coordinate along `time` when there is one. --time-range T0 T1 restricts the time axis.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rollflow.conventions import LEAD_TIME, MEMBER, MODEL, SAMPLE, TIME, VORTICITY
from rollflow.errors import DataError

ORDER = 70

__all__ = ["add_parser", "run", "KINDS"]


def _time_dim(data) -> str:
    return LEAD_TIME if LEAD_TIME in data.dims else TIME


def _vorticity(ds, path: Path):
    if VORTICITY not in ds:
        raise DataError(f"{path} has no {VORTICITY!r} variable")
    return ds[VORTICITY]


def _matched_truth(truth, forecast):
    """Truth at the forecast's samples (exact) and times (within 1e-6 t.u.)."""
    if truth is None:
        raise DataError("this kind needs --truth TRUTH_STORE")
    dim = _time_dim(forecast)
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
    return data, _time_dim(data)


def _spectrum(field, truth, args):
    from rollflow.analysis import energy_spectrum, plot_spectrum
    averaged = [d for d in field.dims if d in (SAMPLE, TIME, LEAD_TIME, MEMBER)]
    spectrum = energy_spectrum(field, average_dims=tuple(averaged))
    return plot_spectrum(spectrum, label_dim=MODEL if MODEL in spectrum.dims else None)


def _vorticity_panels(field, truth, args):
    from rollflow.analysis import plot_vorticity
    dim = _time_dim(field)
    frame = {SAMPLE: args.sample, dim: args.time}
    pick = {d: v for d, v in frame.items() if d in field.dims}
    try:
        if truth is not None and MEMBER in field.dims:
            members = field.sel(pick, method="nearest")
            reference = _matched_truth(truth, field).sel(pick, method="nearest")
            return plot_vorticity(reference, members)
        return plot_vorticity(field.sel(pick, method="nearest").squeeze(drop=True))
    except KeyError as err:
        raise DataError(f"no frame at {pick}: {err}") from None


def _correlation(field, truth, args):
    from rollflow.analysis import plot_correlation, vorticity_correlation
    rho, dim = _by_lead_time(vorticity_correlation(field, _matched_truth(truth, field)))
    return plot_correlation(rho, dim=dim, label_dim=MODEL if MODEL in rho.dims else None)


def _spread(field, truth, args):
    from rollflow.analysis import plot_spread_skill, spread_skill
    mean_dims = tuple(d for d in field.dims if d in (SAMPLE, "x", "y"))
    scores, dim = _by_lead_time(spread_skill(field, _matched_truth(truth, field),
                                             mean_dims=mean_dims))
    return plot_spread_skill(scores, dim=dim)


def _separation(field, truth, args):
    from rollflow.analysis import plot_separation, separation_growth
    dim = _time_dim(field)
    return plot_separation(separation_growth(field, dim=dim), dim=dim)


KINDS = {"spectrum": _spectrum, "vorticity": _vorticity_panels, "correlation": _correlation,
         "spread": _spread, "separation": _separation}


def run(args: argparse.Namespace) -> int:
    from rollflow.analysis import save_figure
    from rollflow.store import open_trajectories

    from rollflow.specs import check_comparable, check_same_truth

    store = open_trajectories(args.store, validate=False)
    field = _vorticity(store, args.store)
    truth = None
    if args.truth is not None:
        truth_store = open_trajectories(args.truth, validate=False)
        names = (str(args.store), str(args.truth))
        if "forecast_mode" in store.attrs:      # a forecast: only against its own truth
            check_same_truth(store.attrs, truth_store.attrs, names=names)
        else:
            check_comparable(store.attrs, truth_store.attrs, names=names)
        truth = _vorticity(truth_store, args.truth)
    if args.time_range is not None:
        window = slice(*args.time_range)
        field = field.sel({_time_dim(field): window})
        if field.sizes[_time_dim(field)] == 0:
            raise DataError(f"no times in --time-range {args.time_range[0]} "
                            f"{args.time_range[1]}")
    from rollflow.store import check_not_input

    check_not_input(args.out, [args.store, args.truth])
    figure = KINDS[args.kind](field, truth, args)
    path = save_figure(figure, args.out)
    print(f"wrote {path}")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plot", help="render an evaluation figure (PNG) from stores",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="trajectory or forecast store")
    parser.add_argument("--kind", choices=sorted(KINDS), required=True)
    parser.add_argument("--out", type=Path, required=True, help="output PNG file")
    parser.add_argument("--truth", type=Path, help="truth store (correlation, spread, "
                        "vorticity with members)")
    parser.add_argument("--sample", type=int, default=0, help="sample of a vorticity frame")
    parser.add_argument("--time", type=float, default=0.0, help="time of a vorticity frame, t.u.")
    parser.add_argument("--time-range", type=float, nargs=2, metavar=("T0", "T1"),
                        help="restrict to times in [T0, T1] t.u.")
    parser.set_defaults(run=run)
