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

from rollflow.conventions import VORTICITY
from rollflow.errors import DataError

ORDER = 70
KIND_NAMES = ["correlation", "separation", "spectrum", "spread", "vorticity"]
"""`rollflow.analysis.figures.FIGURE_KINDS`, listed here so `--help` needs no numerics."""

__all__ = ["add_parser", "run"]


def _vorticity(ds, path: Path):
    if VORTICITY not in ds:
        raise DataError(f"{path} has no {VORTICITY!r} variable")
    return ds[VORTICITY]


def run(args: argparse.Namespace) -> int:
    from rollflow.analysis import save_figure
    from rollflow.analysis.figures import figure_of_kind, time_dim
    from rollflow.specs import check_comparable, check_same_truth
    from rollflow.store import check_not_input, open_trajectories

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
        field = field.sel({time_dim(field): window})
        if field.sizes[time_dim(field)] == 0:
            raise DataError(f"no times in --time-range {args.time_range[0]} "
                            f"{args.time_range[1]}")
    check_not_input(args.out, [args.store, args.truth])
    figure = figure_of_kind(args.kind, field, truth, sample=args.sample, time=args.time)
    path = save_figure(figure, args.out)
    print(f"wrote {path}")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plot", help="render an evaluation figure (PNG) from stores",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="trajectory or forecast store")
    parser.add_argument("--kind", choices=KIND_NAMES, required=True)
    parser.add_argument("--out", type=Path, required=True, help="output PNG file")
    parser.add_argument("--truth", type=Path, help="truth store (correlation, spread, "
                        "vorticity with members)")
    parser.add_argument("--sample", type=int, default=0, help="sample of a vorticity frame")
    parser.add_argument("--time", type=float, default=0.0, help="time of a vorticity frame, t.u.")
    parser.add_argument("--time-range", type=float, nargs=2, metavar=("T0", "T1"),
                        help="restrict to times in [T0, T1] t.u.")
    parser.set_defaults(run=run)
