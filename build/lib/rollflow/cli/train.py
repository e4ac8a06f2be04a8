"""`rollflow train CONFIG.toml --data STORE --out RUN_DIR [--resume] [--steps N] [--nproc N]`.

Thin: load the config, call `rollflow.training.train`, show a progress bar (tqdm: loss,
learning rate, validation loss, steps/s). The run directory receives config.json,
checkpoints/, metrics.jsonl and loss.png. Ctrl-C finishes the current step, writes a
checkpoint and exits 130; `--resume` continues bit-identically.

Data-parallel: under `torchrun --nproc_per_node N -m rollflow train …` every process joins
the group (gloo on CPU, nccl on CUDA) and takes B/N rows of each global batch
(`rollflow.training.distributed`); `--nproc N` launches that torchrun itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rollflow.cli._shared import int_at_least
from rollflow.errors import RollflowError, Terminated

__all__ = ["add_parser", "run"]

ORDER = 30


def add_parser(subparsers) -> None:
    """Register the `train` sub-command."""
    parser = subparsers.add_parser(
        "train", help="train a forecasting model (rolling, standard or deterministic)",
        description="Train the model described by CONFIG.toml on the trajectories in STORE, "
                    "writing checkpoints, metrics.jsonl and loss.png to RUN_DIR.")
    parser.add_argument("config", metavar="CONFIG.toml", help="training config (TOML)")
    parser.add_argument("--data", required=True, metavar="STORE",
                        help="trajectory store written by `rollflow simulate`")
    parser.add_argument("--out", required=True, metavar="RUN_DIR",
                        help="run directory (must be new or empty unless --resume)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in RUN_DIR from its newest checkpoint")
    parser.add_argument("--steps", type=int_at_least(1), metavar="N",
                        help="stop after N completed steps (default: optim.total_steps); the "
                             "learning-rate schedule still spans optim.total_steps")
    parser.add_argument("--nproc", type=int_at_least(1), metavar="N",
                        help="data-parallel over N local processes (launches torchrun; N "
                             "must divide optim.batch_size)")
    parser.set_defaults(run=run)


def _command(args: argparse.Namespace) -> str:
    steps = f" --steps {args.steps}" if args.steps else ""
    return f"rollflow train {args.config} --data {args.data} --out {args.out} --resume{steps}"


def _launch(args: argparse.Namespace) -> int:
    """Run this command under torchrun with args.nproc local processes."""
    import os
    import subprocess

    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={args.nproc}", "-m", "rollflow", "train", str(args.config),
            "--data", str(args.data), "--out", str(args.out)]
    argv += ["--resume"] * args.resume + (["--steps", str(args.steps)] if args.steps else [])
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    launcher = subprocess.Popen(argv, env=env)
    try:
        return launcher.wait()
    except KeyboardInterrupt as err:    # Ctrl-C or SIGTERM here: torchrun passes it on,
        import signal                   # every rank stops at one step, rank 0 checkpoints

        terminated = isinstance(err, Terminated)
        launcher.send_signal(signal.SIGTERM if terminated else signal.SIGINT)
        launcher.wait()
        return 143 if terminated else 130


def run(args: argparse.Namespace) -> int:
    """Train; 0 when finished, 130 after Ctrl-C (checkpoint written)."""
    import os

    from rollflow.training import load_train_config, run_training, train
    from rollflow.training.distributed import ProcessGroup

    config = load_train_config(args.config)
    if args.nproc and args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        if config.optim.batch_size % args.nproc:
            raise RollflowError(f"--nproc {args.nproc} does not divide optim.batch_size = "
                                f"{config.optim.batch_size}")
        from rollflow.training.state import resolve_device

        resolve_device(config.runtime.device)   # one line here, not one per spawned rank
        return _launch(args)
    from rollflow.store import check_not_input

    out = Path(args.out)
    check_not_input(out, [args.data, args.config])
    group = ProcessGroup.from_env(config.runtime.device)
    try:
        if not args.resume and out.exists() and any(out.iterdir()):
            raise RollflowError(f"run directory {out} is not empty; pass --resume to "
                                "continue the run there, or choose a new --out")
        records = train(config, args.data, out, resume=args.resume, stop_at=args.steps,
                        group=group)
        try:
            last = run_training(records, show=group.is_main)
        except KeyboardInterrupt as err:
            terminated = isinstance(err, Terminated)
            if group.is_main:
                print(f"rollflow train: {'terminated (SIGTERM)' if terminated else 'interrupted'}"
                      f"; checkpoint written. Resume with:\n  {_command(args)}", file=sys.stderr)
            return 143 if terminated else 130
    finally:
        group.close()
    if group.is_main:
        where = f" on {group.world} processes" if group.active else ""
        print(f"rollflow train: {last['step']} steps done{where}; run in {out} "
              f"(checkpoints/, metrics.jsonl, loss.png)", file=sys.stderr)
    return 0
