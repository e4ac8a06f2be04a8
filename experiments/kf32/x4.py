"""Issue 14, one resumable command: data → teacher → EMA choice → distillation → test set.

    .venv/bin/python experiments/kf32/x4.py [--stages data train ...] [--out runs/kf32x4]

Stages (each skips what it finished; training resumes): data (stores; 3 states per test
and selection trajectory) · train (teachers, learning curves, best kept EMA) · distill
(K 4 → 2 → 1) · select, choose (x4_choose.py: symmetry members on validation; model and
precision for the test set) · forecast, evaluate, report (x4_test.py: test set).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rollflow.configio import load_toml
from rollflow.generate import generate_store, load_simulation_config
from rollflow.stages import announcer, run_stages
from rollflow.store import cut_segments, open_trajectories, save_dataset
from rollflow.training import (distillation_config, learning_curve, load_train_config,
                               load_trained, train_until)
from x4_skill import choose_ema, skill_of

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STAGES = ("data", "train", "distill", "select", "choose", "forecast", "evaluate", "report")
say = announcer("x4")


def split_store(plan: dict, store: Path, split: str, command: str = "x4.py") -> Path:
    """The plan's store of `split` (generated or resumed; kept when complete)."""
    name = plan["data"][split]
    sim = load_simulation_config(HERE / name)
    return generate_store(sim.flow, store / f"{Path(name).stem}.zarr",
                          batch_size=sim.generation.batch_size, command=f"{command} ({split})")


def segments(plan: dict, store: Path, split: str, command: str = "x4.py") -> Path:
    """The split's store cut into the plan's segments (3 states per trajectory)."""
    source = split_store(plan, store, split, command)
    if not (path := store / f"{split}_segments.zarr").exists():
        save_dataset(cut_segments(open_trajectories(source),
                                  starts=plan["data"]["segment_starts"],
                                  num_frames=plan["data"]["segment_frames"],
                                  source_name=str(source)), path)
    return path


def data(plan: dict, out: Path, store: Path) -> None:
    for split in ("train", "validation"):
        if plan["data"][split]:
            split_store(plan, store, split)
    for split in ("test", "selection"):
        segments(plan, store, split)


def train_teacher(plan: dict, out: Path, store: Path) -> None:
    """Each [config, run, learning-curve steps] of the plan: trained with validation skill
    on the way (<run>/learning_curve.json), then its best kept EMA."""
    for name, run, stops in plan["teachers"]:
        config = load_train_config(HERE / name)
        learning_curve(config, store / "train128.zarr", out / run,
                       [*stops, config.optim.total_steps],
                       lambda run_dir: skill_of(load_trained(run_dir), store / "validation.zarr",
                                                plan["validation"]),
                       out / run / "learning_curve.json",
                       say=lambda e: say(f"{run}: step {e['step']}, {e['cpu_hours']:.2f} CPU-h, "
                                         f"T0.8 {e['T_mean']['0.8']:.2f} (validation)"))
        choose_ema(out / run, plan, store)


def distill(plan: dict, out: Path, store: Path) -> None:
    """Each [source, student, steps] of the plan in turn: the student learns in one call what
    the source (at its EMA chosen on validation) does in two (K → K/2)."""
    for source, student, total in plan["distill"]["runs"]:
        decay = choose_ema(out / source, plan, store)["chosen"]
        teacher = load_trained(out / source, ema_decay=decay).config
        k = teacher.diffusion.steps_per_shift
        config = distillation_config(teacher, teacher_ref=str(out / source), total_steps=total,
                                     lr=plan["distill"]["lr"], teacher_ema_decay=decay,
                                     batch_size=plan["distill"].get("batch_size"))
        say(f"distill {source} → {student}: K {k} → {k // 2}, {total} steps")
        train_until(config, store / "train128.zarr", out / student)
        choose_ema(out / student, plan, store)


def main(argv: list[str] | None = None) -> int:
    from x4_choose import select_stage
    from x4_test import run_stage

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", type=Path, default=HERE / "x4.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32x4")
    parser.add_argument("--data", type=Path, default=ROOT / "data/kf32")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    args = parser.parse_args(argv)
    plan, out, store = load_toml(args.plan), args.out, args.data
    out.mkdir(parents=True, exist_ok=True)
    actions = {"data": data, "train": train_teacher, "distill": distill, "select": select_stage,
               **{s: (lambda p, o, d, s=s: run_stage(s, p, o, d))
                  for s in ("choose", "forecast", "evaluate", "report")}}
    return run_stages({name: (lambda f=f: f(plan, out, store)) for name, f in actions.items()},
                      args.stages, say)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
