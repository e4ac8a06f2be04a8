"""`rollflow simulate CONFIG.toml --out PATH`: generate (or resume) a trajectory store.

The config has a `[flow]` table (FlowSpec fields) and an optional `[generation]` table
(`batch_size`). Command-line options override them; the resolved config is written into
the store's attrs (`config`, TOML text) and beside the store as `<stem>.config.toml`.
Re-running the same command resumes an interrupted store.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import time
from pathlib import Path
from typing import Any

from rollflow.errors import ConfigError, SpecError

ORDER = 10
MAX_HOURS = 24.0
MAX_STEPS_PER_FRAME = 20_000

_FORMAT_SUFFIX = {"zarr": None, "netcdf": ".nc"}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate", help="generate a ground-truth trajectory store (resumable)",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path, help="simulation TOML ([flow], [generation])")
    parser.add_argument("--out", type=Path, required=True,
                        help="output store: a .zarr directory or a .nc file")
    parser.add_argument("--samples", type=int, help="override flow.num_samples")
    parser.add_argument("--seed", type=int, help="override flow.seed")
    parser.add_argument("--backend", choices=["jaxcfd", "exponax"],
                        help="override flow.backend (exponax needs rollflow[exponax])")
    parser.add_argument("--batch-size", type=int, help="override generation.batch_size")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing store (needed if its spec differs)")
    parser.add_argument("--format", choices=sorted(_FORMAT_SUFFIX),
                        help="store format; default from the suffix of --out (.nc → netcdf)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--force", action="store_true",
                        help=f"run even if the estimated cost exceeds {MAX_HOURS:g} h or "
                             f"{MAX_STEPS_PER_FRAME} solver steps per frame")
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=int, metavar="N",
                        help="simulate on a local Dask cluster of N worker processes "
                             "(zarr output; the store equals a serial run's bit for bit)")
    engine.add_argument("--scheduler", metavar="ADDRESS",
                        help="simulate on the workers of an existing Dask scheduler, e.g. "
                             "tcp://host:8786 (see docs/scaling.md)")
    parser.set_defaults(run=run)


def _command(args: argparse.Namespace) -> str:
    words = ["rollflow", "simulate", str(args.config), "--out", str(args.out)]
    for option in ("samples", "seed", "batch_size", "format"):
        value = getattr(args, option)
        if value is not None:
            words += ["--" + option.replace("_", "-"), str(value)]
    if args.overwrite:
        words.append("--overwrite")
    return shlex.join(words)


def _check_format(args: argparse.Namespace) -> None:
    is_netcdf = args.out.suffix.lower() in (".nc", ".nc4", ".netcdf")
    if args.format == "netcdf" and not is_netcdf:
        raise ConfigError(f"--format netcdf needs an --out path ending in .nc (got {args.out})")
    if args.format == "zarr" and is_netcdf:
        raise ConfigError(f"--format zarr cannot write to a .nc path ({args.out})")


def _check_cost(flow, force: bool) -> None:
    """Refuse absurd runs (estimated time or steps per frame) unless force; the estimate
    itself is printed by `generate_store` before it starts simulating."""
    from rollflow.generate import duration_text as _duration, estimate_seconds

    seconds = estimate_seconds(flow)
    too_long = seconds > MAX_HOURS * 3600
    if (too_long or flow.steps_per_frame > MAX_STEPS_PER_FRAME) and not force:
        why = (f"≈ {_duration(seconds)} on one core" if too_long
               else f"{flow.steps_per_frame} solver steps per frame")
        raise ConfigError(f"refusing a run of {why} (check max_velocity, save_interval and "
                          f"simulation_size); pass --force to run it anyway")


def run(args: argparse.Namespace) -> int:
    from rollflow.generate import (GenerationConfig, SimulationConfig, generate_store,
                                   load_simulation_config, simulation_toml)

    config = load_simulation_config(args.config)
    _check_format(args)
    overrides = {k: v for k, v in (("num_samples", args.samples), ("seed", args.seed),
                                   ("backend", args.backend)) if v is not None}
    try:
        flow = config.flow.replace(**overrides)
    except SpecError as err:
        raise ConfigError(f"command-line override: {err}") from None
    generation = config.generation
    if args.batch_size is not None:
        generation = GenerationConfig(batch_size=args.batch_size)
    _check_cost(flow, args.force)
    resolved = SimulationConfig(flow=flow, generation=generation)
    toml_text = simulation_toml(resolved)
    started = time.perf_counter()
    options = dict(batch_size=generation.batch_size, overwrite=args.overwrite,
                   progress=not args.quiet, command=_command(args),
                   attrs={"config": toml_text})
    from rollflow.store import check_not_input

    check_not_input(args.out, [args.config])
    if args.workers is None and args.scheduler is None:
        path = generate_store(flow, args.out, **options)
    else:
        from rollflow.generate.cluster import cluster_client, generate_store_on_cluster

        if args.out.suffix.lower() in (".nc", ".nc4", ".netcdf") or args.format == "netcdf":
            raise ConfigError("netCDF output is written serially; use a .zarr --out with "
                              "--workers/--scheduler")
        with cluster_client(workers=args.workers, scheduler=args.scheduler) as client:
            path = generate_store_on_cluster(flow, args.out, client=client, **options)
    beside = path.with_name(path.stem + ".config.toml")
    beside.write_text(toml_text)
    elapsed = time.perf_counter() - started
    print(f"{path}: {flow.num_samples} samples × {flow.num_frames} frames × "
          f"{flow.output_size}² (DNS {flow.simulation_size}²) complete; "
          f"{elapsed:.1f} s; config in {beside}")
    return 0
