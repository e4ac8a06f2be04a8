"""`rollflow forecast RUN_DIR --data STORE --out PATH [...]`: ensemble rollouts of a model.

Thin: load the trained model (EMA weights) and the truth store, check that the grids
match, roll out from `--init-index` for `--frames` frames with `--members` members per
sample, and write a (sample, member, time, x, y) dataset (zarr, or netCDF for `.nc`)
batch by batch (`rollflow.forecast.forecast_to_store`): memory holds one batch, and an
interrupted forecast resumes when the same command is run again.
"""

from __future__ import annotations

import argparse
import sys

from rollflow.cli._shared import float_above, int_at_least

__all__ = ["add_parser", "run"]

ORDER = 40


def add_parser(subparsers) -> None:
    """Register the `forecast` sub-command."""
    parser = subparsers.add_parser(
        "forecast", help="roll out a trained model from ground-truth initial states",
        description="Forecast the samples of STORE with a shipped model or the newest "
                    "checkpoint of a run directory.")
    parser.add_argument("run_dir", metavar="MODEL",
                        help="run directory of `rollflow train`, a checkpoint, or the name "
                             "of a shipped model (`rollflow models`)")
    parser.add_argument("--data", required=True, metavar="STORE", help="truth trajectory store")
    parser.add_argument("--out", required=True, metavar="PATH", help="output store (.zarr or .nc)")
    parser.add_argument("--samples", type=int, nargs="+", metavar="I",
                        help="sample indices to forecast (default: all)")
    parser.add_argument("--init-index", type=int_at_least(0), metavar="K",
                        help="time index of the initial state (default: the first index "
                             "with enough context frames)")
    parser.add_argument("--frames", type=int_at_least(1), default=50, metavar="N",
                        help="frames to emit after the initial state (default 50)")
    parser.add_argument("--members", type=int_at_least(1), default=4, metavar="M",
                        help="ensemble members per sample (default 4)")
    parser.add_argument("--seed", type=int_at_least(0), default=0, help="sampler seed (default 0)")
    parser.add_argument("--batch-size", type=int_at_least(1), default=4, metavar="B",
                        help="samples per sampler call (default 4)")
    parser.add_argument("--steps-per-shift", type=int_at_least(1), metavar="K",
                        help="override the rolling sampler's steps per emitted frame")
    parser.add_argument("--bf16", action="store_true",
                        help="network calls under bf16 autocast (CPUs with native bf16, e.g. "
                             "avx512_bf16/AMX; elsewhere float32 is used, with a notice)")
    parser.add_argument("--channels-last", action="store_true",
                        help="NHWC memory order for the network (see docs/performance.md)")
    parser.add_argument("--symmetry-members", action="store_true",
                        help="member m forecasts g_m·ω of a symmetry g_m of the flow and maps "
                             "back (an ensemble from symmetries; member 0 is the plain one)")
    parser.add_argument("--context-noise", type=float_above(0.0, or_equal=True), default=0.0,
                        metavar="EPS",
                        help="members 1… start from the context + EPS·σ·(white noise), σ the "
                             "data's std: an initial-condition ensemble (member 0 unperturbed)")
    parser.add_argument("--time-chunk", type=int_at_least(1), metavar="N",
                        help="write every N frames and resume inside a batch (long rollouts; "
                             "the values do not depend on N; default: whole batches)")
    parser.add_argument("--raw-weights", action="store_true",
                        help="use the raw instead of the EMA weights")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output (without it, an unfinished output "
                             "of the same model and settings is resumed)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rollflow.conventions import SAMPLE, VORTICITY
    from rollflow.forecast import ForecastSettings, forecast_with_progress
    from rollflow.store import open_trajectories
    from rollflow.training import load_trained

    from rollflow.cli._shared import check_model_grid, default_init_index, select_samples

    from rollflow.store import check_not_input

    check_not_input(args.out, [args.data, args.run_dir])
    model = load_trained(args.run_dir, use_ema=not args.raw_weights)
    truth = open_trajectories(args.data)
    check_model_grid(model, truth, args.data)
    vorticity = select_samples(truth[VORTICITY], args.samples, args.data)
    init = args.init_index if args.init_index is not None else default_init_index(model)
    settings = ForecastSettings(init_index=init, num_frames=args.frames,
                                num_members=args.members, seed=args.seed,
                                batch_size=args.batch_size,
                                steps_per_shift=args.steps_per_shift,
                                precision="bfloat16" if args.bf16 else "float32",
                                channels_last=args.channels_last,
                                symmetry_members=args.symmetry_members,
                                context_noise=args.context_noise, time_chunk=args.time_chunk)
    done = forecast_with_progress(model, vorticity, settings, args.out, attrs=truth.attrs,
                                  desc=f"forecast ({model.config.diffusion.mode})",
                                  extra_attrs={"forecast_checkpoint_step": model.step,
                                               "forecast_run_dir": str(args.run_dir)},
                                  overwrite=args.overwrite,
                                  warn=lambda text: print(f"rollflow forecast: {text}",
                                                          file=sys.stderr))
    if done.num_run == 0:
        print(f"{args.out} is already complete (same model and settings); nothing to do")
        return 0
    result = open_trajectories(args.out, validate=False)
    resumed = f" (resumed: {done.num_run} of {done.num_batches} batches run now)" \
        if done.resumed else ""
    attrs = result.attrs
    print(f"wrote {args.out}: {result[VORTICITY].sizes[SAMPLE]} samples × {args.members} "
          f"members × {args.frames} frames{resumed}; "
          f"{attrs['forecast_network_calls_per_frame']:.2f} network calls per emitted frame "
          f"per member; {attrs['forecast_seconds_per_time_unit']:.3g} s per t.u. per member, "
          f"{attrs['forecast_ensemble_seconds_per_time_unit']:.3g} s for all {args.members} "
          f"(per trajectory, {attrs['forecast_precision']})")
    return 0
