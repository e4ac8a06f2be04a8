"""`rollflow baseline STORE --resolution R [R ...] --out PATH`: solver reference forecasts.

Thin: open the truth store, and for each solver grid R run jax-cfd from the same initial
states a model forecast uses (`--init-index`, `--frames`, `--samples`, `--frame-stride`),
saved in the forecast layout (sample, member = 1, time, x, y) so that `rollflow evaluate`
scores it like a model. The measured wall seconds per simulated t.u. per trajectory are in
the attrs (`forecast_seconds_per_time_unit`, compilation excluded).
"""

from __future__ import annotations

import argparse
import sys

from rollflow.cli._shared import int_at_least, select_samples

__all__ = ["add_parser", "run", "output_paths"]

ORDER = 45
PLACEHOLDER = "{R}"


def add_parser(subparsers) -> None:
    """Register the `baseline` sub-command."""
    parser = subparsers.add_parser(
        "baseline", help="solver forecasts from the same initial states as a model forecast",
        description="Run the jax-cfd solver at each resolution R from the states of STORE "
                    "and save forecast-format stores for `rollflow evaluate`.")
    parser.add_argument("store", metavar="STORE", help="truth trajectory store")
    parser.add_argument("--resolution", type=int_at_least(4), nargs="+", required=True,
                        metavar="R", help="solver grid points per side (even, ≥ the "
                                          "store's grid); several give several stores")
    parser.add_argument("--out", required=True, metavar="PATH",
                        help=f"output store (.zarr or .nc); with several resolutions PATH "
                             f"must contain {PLACEHOLDER}, replaced by each R")
    parser.add_argument("--samples", type=int, nargs="+", metavar="I",
                        help="sample indices (default: all)")
    parser.add_argument("--init-index", type=int_at_least(0), default=1, metavar="K",
                        help="time index of the initial state (default 1, as `rollflow "
                             "forecast` for a two-frame context)")
    parser.add_argument("--frames", type=int_at_least(1), default=50, metavar="N",
                        help="frames to save after the initial state (default 50)")
    parser.add_argument("--frame-stride", type=int_at_least(1), default=1, metavar="S",
                        help="saved frames between forecast frames (default 1)")
    parser.add_argument("--backend", choices=["jaxcfd", "exponax"],
                        help="the solver (default: the store's; exponax needs rollflow[exponax])")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.set_defaults(run=run)


def output_paths(out: str, resolutions: list[int]) -> list[str]:
    """One output path per resolution; DataError if several would share one path."""
    from rollflow.errors import DataError

    if len(set(resolutions)) != len(resolutions):
        raise DataError(f"--resolution lists a grid twice: {resolutions}")
    if len(resolutions) > 1 and PLACEHOLDER not in out:
        raise DataError(f"several resolutions need {PLACEHOLDER} in --out (e.g. "
                        f"solver_{PLACEHOLDER}.zarr); got {out!r}")
    return [out.replace(PLACEHOLDER, str(r)) for r in resolutions]


def _check_resolutions(resolutions: list[int], size: int) -> None:
    from rollflow.errors import DataError

    bad = [r for r in resolutions if r < size or r % 2]
    if bad:
        raise DataError(f"solver resolution(s) {bad} must be even and ≥ the store's grid "
                        f"{size}")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from rollflow.conventions import SAMPLE, TIME, VORTICITY, X
    from rollflow.errors import DataError
    from rollflow.baselines import solver_forecast
    from rollflow.store import open_trajectories, read_spec, save_dataset

    from rollflow.store import check_not_input

    paths = output_paths(args.out, list(args.resolution))
    for path in paths:
        check_not_input(path, [args.store])
    truth = open_trajectories(args.store)
    spec = read_spec(args.store)
    _check_resolutions(list(args.resolution), truth.sizes[X])
    vorticity = select_samples(truth[VORTICITY], args.samples, args.store)
    if args.init_index >= vorticity.sizes[TIME]:
        raise DataError(f"--init-index {args.init_index} is past the store's last frame "
                        f"({vorticity.sizes[TIME] - 1})")
    vorticity = vorticity.load()
    total = args.frames * args.frame_stride + 1
    for resolution, path in zip(args.resolution, paths):
        with tqdm(total=total, unit="frame", desc=f"solver {resolution}²", file=sys.stderr,
                  dynamic_ncols=True) as bar:
            result = solver_forecast(vorticity, spec, init_index=args.init_index,
                                     num_frames=args.frames, simulation_size=resolution,
                                     frame_stride=args.frame_stride, progress=bar.update,
                                     source_attrs=truth.attrs, backend=args.backend)
        save_dataset(result, path, overwrite=args.overwrite)
        print(f"wrote {path}: {result.attrs['forecast_solver_backend']} {resolution}², "
              f"{vorticity.sizes[SAMPLE]} samples × "
              f"{args.frames} frames; {result.attrs['forecast_seconds_per_time_unit']:.3f} s "
              f"per simulated t.u. per trajectory")
    return 0
