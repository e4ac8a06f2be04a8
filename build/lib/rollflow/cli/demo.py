"""`rollflow demo [--out DIR] [--train]`: forecast with the shipped model, judged against solvers.

Stages (each resumes if interrupted; finished stores are reused): test trajectories →
an ensemble forecast with the shipped model (kept as DIR/forecast.zarr so `rollflow
evaluate`/`plot` can be rerun) → the jax-cfd solver at 32² and 64² from the same states
(DIR/solver_<R>.zarr) → scores and figures. `--train` first simulates training data and
trains a model from the config's [train] section (DIR/run), and forecasts with it instead.
Before each long stage the demo prints a time estimate. The work is `rollflow.demo`; the
default config ships with the package (`rollflow/configs/demo.toml`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "run"]

ORDER = 5


def add_parser(subparsers) -> None:
    """Register the `demo` sub-command."""
    parser = subparsers.add_parser(
        "demo", help="forecast with the shipped model and judge it against 32²/64² solvers",
        description="Simulate test trajectories, forecast them with the shipped rolling "
                    "model, run solvers from the same states and print the scores side by side.")
    parser.add_argument("--out", default="outputs/demo", metavar="DIR",
                        help="output directory (default outputs/demo); re-runs resume")
    parser.add_argument("--config", metavar="CONFIG.toml",
                        help="demo config (default: rollflow/configs/demo.toml, shipped with "
                             "the package)")
    parser.add_argument("--train", action="store_true",
                        help="simulate training data and train the config's [train] model "
                             "first (tens of minutes to hours on a CPU), then use it")
    parser.set_defaults(run=run)


def _say(text: str) -> None:
    print(f"[demo] {text}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from rollflow.demo import DEFAULT_CONFIG, load_demo_config, run_demo, side_by_side

    config = load_demo_config(args.config or DEFAULT_CONFIG)
    out = Path(args.out)
    scores, paths = run_demo(config, out, train=args.train, say=_say)
    print(side_by_side(scores))
    print()
    for path in paths:
        print(f"wrote {path}")
    print(f"forecast kept in {out / 'forecast.zarr'}: rerun `rollflow evaluate "
          f"{out / 'forecast.zarr'} --truth {out / 'test.zarr'} --figures DIR`")
    return 0
