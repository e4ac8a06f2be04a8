"""`rollflow lyapunov CONFIG.toml`: leading Lyapunov exponent from perturbed solver twins.

The config has a `[flow]` table (FlowSpec fields) and a `[lyapunov]` table (see
`rollflow.lyapunov.LyapunovConfig`): twin solver runs from perturbed copies of random
states; the exponential growth of ‖δω‖/‖ω‖ is fitted over its linear regime
(`rollflow.lyapunov`). The command prints λ₁ per pair, their mean ± standard deviation
and the Lyapunov time 1/λ₁. With an output folder it also writes the curves
(`separation.csv`), a plot (`separation.png`) and a summary (`summary.json`: numbers,
command, commit, machine, wall time).
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path
from typing import Any

ORDER = 60

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    from rollflow.lyapunov import (load_config, lyapunov_experiment, lyapunov_summary,
                                   write_outputs)
    from rollflow.store import check_not_input

    spec, config = load_config(args.config)
    if args.pairs is not None:
        config = dataclasses.replace(config, num_pairs=args.pairs)
    out = args.out or (Path(config.output) if config.output else None)
    if out is not None:
        check_not_input(out, [args.config])

    def log(message: str) -> None:
        if not args.quiet:
            print(f"[lyapunov] {message}", file=sys.stderr, flush=True)

    growth, wall = lyapunov_experiment(spec, config, log=log)
    command = shlex.join(["rollflow", "lyapunov", str(args.config)]
                         + (["--out", str(args.out)] if args.out else []))
    summary = lyapunov_summary(growth, spec, config, command=command, wall=wall)
    for p in range(config.num_pairs):
        one = growth.isel(pair=p)
        print(f"pair {p}: λ = {float(one.growth_rate):.4f} /t.u. over t ∈ "
              f"[{float(one.fit_start):.1f}, {float(one.fit_end):.1f}] (R² = "
              f"{float(one.r_squared):.4f}), saturation {float(one.saturation):.3f}, "
              f"predictability time {float(one.predictability_time):.2f} t.u.")
    print(f"Re = {spec.reynolds_number:g}, {spec.simulation_size}²: λ₁ = "
          f"{summary['lyapunov_exponent_mean']:.4f} ± {summary['lyapunov_exponent_std']:.4f}"
          f" /t.u. ({config.num_pairs} pairs), Lyapunov time 1/λ₁ = "
          f"{summary['lyapunov_time']:.3f} t.u.")
    if out is not None:
        write_outputs(out, growth, summary)
        log(f"wrote {out}/separation.csv, separation.png, summary.json")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lyapunov", help="leading Lyapunov exponent from perturbed solver twins",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path, help="TOML with [flow] and [lyapunov] tables")
    parser.add_argument("--out", type=Path, help="output folder (overrides lyapunov.output)")
    parser.add_argument("--pairs", type=int, help="override lyapunov.num_pairs")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    parser.set_defaults(run=run)
