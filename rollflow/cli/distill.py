"""`rollflow distill TEACHER --data STORE --out RUN_DIR`: halve a rolling model's K.

Thin: build the student's config from the teacher's (`rollflow.training.distillation_config`:
steps per shift and init steps halved, η = 0), train it with the teacher's two DDIM updates
as the target of one (`rollflow.diffusion.DistillationObjective`), and print. Repeat with
the student as the teacher to halve again (4 → 2 → 1). Ctrl-C writes a checkpoint;
the same command with `--resume` continues.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rollflow.cli._shared import float_above, int_at_least
from rollflow.errors import RollflowError, Terminated

__all__ = ["add_parser", "run"]

ORDER = 31


def add_parser(subparsers) -> None:
    """Register the `distill` sub-command."""
    parser = subparsers.add_parser(
        "distill", help="distil a rolling model into one with half the steps per shift",
        description=__doc__.split("\n\n", 1)[1].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("teacher", metavar="TEACHER",
                        help="run directory, checkpoint JSON or shipped model name")
    parser.add_argument("--data", required=True, metavar="STORE",
                        help="trajectory store of the windows to distil on")
    parser.add_argument("--out", required=True, metavar="RUN_DIR",
                        help="the student's run directory (new or empty unless --resume)")
    parser.add_argument("--total-steps", type=int_at_least(1), default=4000, metavar="N",
                        help="optimisation steps of the student (default 4000)")
    parser.add_argument("--lr", type=float_above(0.0), default=1e-4,
                        help="peak learning rate (default 1e-4)")
    parser.add_argument("--teacher-ema", type=float, metavar="DECAY",
                        help="which EMA of the teacher run (default: its optim.ema_decay)")
    parser.add_argument("--own-context", type=float, default=0.0, metavar="P",
                        help="probability that a training example's last context frame is "
                             "the student's own estimate of it (default 0: true frames)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in RUN_DIR from its newest checkpoint")
    parser.add_argument("--steps", type=int_at_least(1), metavar="N",
                        help="stop after N completed steps (the schedule still spans "
                             "--total-steps)")
    parser.set_defaults(run=run)


def _command(args: argparse.Namespace) -> str:
    words = ["rollflow", "distill", args.teacher, "--data", str(args.data), "--out",
             str(args.out), "--total-steps", str(args.total_steps), "--lr", repr(args.lr)]
    if args.teacher_ema is not None:
        words += ["--teacher-ema", repr(args.teacher_ema)]
    if args.own_context:
        words += ["--own-context", repr(args.own_context)]
    return " ".join(words + ["--resume"])


def run(args: argparse.Namespace) -> int:
    """Distil; 0 when finished, 130/143 after Ctrl-C/SIGTERM (checkpoint written)."""
    from rollflow.training import distillation_config, load_trained, run_training, train

    from rollflow.store import check_not_input

    check_not_input(args.out, [args.data, args.teacher])
    teacher = load_trained(args.teacher, ema_decay=args.teacher_ema)
    config = distillation_config(teacher.config, teacher_ref=args.teacher,
                                 total_steps=args.total_steps, lr=args.lr,
                                 teacher_ema_decay=args.teacher_ema,
                                 own_context=args.own_context)
    out = Path(args.out)
    if not args.resume and out.exists() and any(out.iterdir()):
        raise RollflowError(f"run directory {out} is not empty; pass --resume to continue "
                            "the run there, or choose a new --out")
    k = teacher.config.diffusion.steps_per_shift
    print(f"rollflow distill: K = {k} → {k // 2} network calls per shift, "
          f"{args.total_steps} steps × batch {config.optim.batch_size}", file=sys.stderr)
    try:
        last = run_training(train(config, args.data, out, resume=args.resume,
                                  stop_at=args.steps))
    except KeyboardInterrupt as err:
        terminated = isinstance(err, Terminated)
        print(f"rollflow distill: {'terminated (SIGTERM)' if terminated else 'interrupted'}"
              f"; checkpoint written. Resume with:\n  {_command(args)}", file=sys.stderr)
        return 143 if terminated else 130
    print(f"rollflow distill: {last['step']} steps done; student in {out} "
          f"(K = {k // 2}; forecast with `rollflow forecast {out} …`)", file=sys.stderr)
    return 0
