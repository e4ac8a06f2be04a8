"""`rollflow report SCORES... --out DIR`: a results page from scored forecasts.

Thin: opens each score store (as `rollflow evaluate --out` writes them; named by its file
stem; `<name>_m<M>` beside `<name>` is its M-member subset), and
`rollflow.analysis.report.report_page` writes report.md — the headline table of
single-member and ensemble readings, each with the cost of all its members, the no-skill
references, paired comparisons on the same states and a scorecard against a baseline —
with lead_time.png, scorecard.png and pareto.png. Scores of different evaluation grids
are refused in one line.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report", help="a results page (markdown + figures) from score stores",
        description=__doc__.split("\n\n", 1)[1])
    parser.add_argument("scores", type=Path, nargs="*", metavar="SCORES",
                        help="score stores written by `rollflow evaluate --out` (.nc/.zarr)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="directory for report.md and its figures")
    parser.add_argument("--baseline", metavar="NAME",
                        help="the scorecard's baseline (a score store's file stem; default: "
                             "the first model)")
    parser.add_argument("--leads", type=float, nargs="+", metavar="T",
                        help="scorecard lead times in t.u. (default: 0.2, 0.5, 1, 2, … within "
                             "every forecast's leads)")
    parser.add_argument("--pair", nargs=2, action="append", metavar=("A", "B"),
                        help="compare A − B on the same states (ΔT with a paired bootstrap "
                             "interval); repeatable (default: every model against the "
                             "baseline)")
    parser.add_argument("--title", default="Forecast report")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rollflow.analysis.report import report_page
    from rollflow.errors import DataError
    from rollflow.store import check_not_input, open_trajectories

    check_not_input(args.out, list(args.scores), what="--out")
    scores = {}
    for path in args.scores:
        if path.stem in scores:
            raise DataError(f"two score stores are named {path.stem!r}; rename one")
        with open_trajectories(path, validate=False) as ds:
            if "mean_correlation" not in ds:
                raise DataError(f"{path} is not a score store of `rollflow evaluate --out` "
                                "(no mean_correlation)")
            scores[path.stem] = ds.load()
    for written in report_page(scores, args.out, baseline=args.baseline, leads=args.leads,
                               pairs=[tuple(p) for p in args.pair] if args.pair else None,
                               title=args.title):
        print(f"wrote {written}")
    return 0
