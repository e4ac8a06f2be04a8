"""Issue 14, one resumable command: data → teacher → EMA choice → distillation → test set.

    .venv/bin/python experiments/kf32/x4.py [--stages data train ...] [--out runs/kf32x4]

Stages (each skipped when its output exists; training resumes from its last checkpoint):

  data      train128 / validation / test_long stores, and the test segments (3 states per
            trajectory, a `trajectory` coordinate for the cluster bootstrap)
  train     the teacher (x4.toml `teacher`), scored on validation at the learning-curve
            steps; at the end every kept EMA is scored and the best T0.8 chosen
  distill   K 4 → 2 → 1 students (rollflow distill's library path), EMA chosen likewise
  select    symmetry-member ensembles on or off, chosen on validation for each final run
  forecast  test forecasts of the final models and today's shipped ones, then the solvers
            and persistence from the same states, back to back (costs side by side)
  evaluate  scores of every forecast (M-member subsets for the ensemble curves)
  report    experiments/kf32/x4_report.py

All logic is in rollflow; this file wires x4.toml to it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STAGES = ("data", "train", "distill", "select", "forecast", "evaluate", "report")


def say(text: str) -> None:
    print(f"[x4] {text}", file=sys.stderr, flush=True)


def data(plan: dict, out: Path, store: Path) -> None:
    from rollflow.generate import generate_store, load_simulation_config
    from rollflow.store import cut_segments, open_trajectories, save_dataset

    for split in ("train", "validation", "test"):
        name = plan["data"][split]
        if name:
            sim = load_simulation_config(HERE / name)
            generate_store(sim.flow, store / f"{Path(name).stem}.zarr",
                           batch_size=sim.generation.batch_size, command=f"x4.py ({split})")
    segments = store / "test_segments.zarr"
    if not segments.exists():
        source = store / f"{Path(plan['data']['test']).stem}.zarr"
        save_dataset(cut_segments(open_trajectories(source),
                                  starts=plan["data"]["segment_starts"],
                                  num_frames=plan["data"]["segment_frames"],
                                  source_name=str(source)), segments)


def skill_of(model, truth_path: Path, settings: dict, members: int | None = None,
             symmetry_members: bool = False) -> dict:
    """Validation (or test) T of a model: ensemble mean and single member, t.u."""
    from rollflow.analysis.skill import headline_skill
    from rollflow.forecast import ForecastSettings, forecast
    from rollflow.store import open_trajectories

    truth = open_trajectories(truth_path)
    stride = model.config.data.frame_stride
    fc = forecast(model, truth.vorticity.load(), ForecastSettings(
        init_index=settings["init_index"], num_frames=settings["frames"] // stride,
        num_members=members or settings["members"], batch_size=settings["batch_size"],
        symmetry_members=symmetry_members), attrs=truth.attrs)
    skill = headline_skill(fc.vorticity, truth.vorticity, num_resamples=200).compute()
    read = lambda key: {str(t): float(v) for t, v in zip(
        skill.threshold.values, skill[f"decorrelation_{key}_estimate"].values)}
    return {"T_mean": read("mean"), "T_member": read("member"),
            "seconds_per_time_unit": fc.attrs["forecast_seconds_per_time_unit"]}


def choose_ema(run_dir: Path, plan: dict, store: Path) -> dict:
    """Score every EMA the run kept on validation; the best ensemble-mean T0.8 wins."""
    from rollflow.training import latest_checkpoint, load_checkpoint, load_trained

    path = run_dir / "ema_choice.json"
    if path.exists():
        return json.loads(path.read_text())
    ckpt = load_checkpoint(latest_checkpoint(run_dir))
    scores = {}
    for decay in [ckpt.config.optim.ema_decay, *ckpt.extra_emas]:
        scores[str(decay)] = skill_of(load_trained(run_dir, ema_decay=decay),
                                      store / "validation.zarr", plan["validation"])
        say(f"{run_dir.name}: EMA {decay}: T0.8 {scores[str(decay)]['T_mean']['0.8']:.2f}")
    best = max(scores, key=lambda d: scores[d]["T_mean"]["0.8"])
    choice = {"chosen": float(best), "step": ckpt.step, "validation": scores,
              "cpu_hours": ckpt.info.get("cpu_seconds", 0.0) / 3600}
    path.write_text(json.dumps(choice, indent=1))
    return choice


def train_teacher(plan: dict, out: Path, store: Path) -> None:
    from rollflow.training import (latest_checkpoint, load_checkpoint, load_train_config,
                                   load_trained, run_training, train)

    config = load_train_config(HERE / plan["teacher"])
    run_dir, data_path = out / "teacher", store / "train128.zarr"
    curve_path = out / "learning_curve.json"
    curve = json.loads(curve_path.read_text()) if curve_path.exists() else []
    for stop in [*plan["learning_curve"], config.optim.total_steps]:
        found = latest_checkpoint(run_dir) if run_dir.exists() else None
        if found is None or load_checkpoint(found).step < stop:
            say(f"teacher: training to step {stop} of {config.optim.total_steps}")
            run_training(train(config, data_path, run_dir, resume=True, stop_at=stop))
        info = load_checkpoint(latest_checkpoint(run_dir)).info
        if not any(entry["step"] == stop for entry in curve):
            entry = {"step": stop, "cpu_hours": info["cpu_seconds"] / 3600,
                     "samples_seen": info["samples_seen"],
                     **skill_of(load_trained(run_dir), store / "validation.zarr",
                                plan["validation"])}
            curve.append(entry)
            curve_path.write_text(json.dumps(curve, indent=1))
            say(f"learning curve: step {stop}, {entry['cpu_hours']:.2f} CPU-h, "
                f"T0.8 {entry['T_mean']['0.8']:.2f} (validation)")
    choose_ema(run_dir, plan, store)


def distill(plan: dict, out: Path, store: Path) -> None:
    from rollflow.training import distillation_config, load_trained, run_training, train

    teacher_dir = out / "teacher"
    for total in plan["distill"]["total_steps"]:
        decay = choose_ema(teacher_dir, plan, store)["chosen"]
        teacher = load_trained(teacher_dir, ema_decay=decay)
        k = teacher.config.diffusion.steps_per_shift
        student_dir = out / f"student_k{k // 2}"
        config = distillation_config(teacher.config, teacher_ref=str(teacher_dir),
                                     total_steps=total, lr=plan["distill"]["lr"],
                                     teacher_ema_decay=decay)
        say(f"distill: K {k} → {k // 2}, {total} steps")
        run_training(train(config, store / "train128.zarr", student_dir, resume=True))
        choose_ema(student_dir, plan, store)
        teacher_dir = student_dir


def select(plan: dict, out: Path, store: Path) -> None:
    """Symmetry members on or off, 8 members, on validation (ensemble-mean T0.8); and
    today's shipped models on the same validation protocol (the learning curve's pair)."""
    from rollflow.training import load_trained

    path = out / "shipped_validation.json"
    if not path.exists():
        path.write_text(json.dumps({name: skill_of(load_trained(name), store / "validation.zarr",
                                                   plan["validation"])
                                    for name in plan["shipped"]}, indent=1))

    for run in ("teacher", "student_k2", "student_k1"):
        path = out / run / "sampling_choice.json"
        if path.exists() or not (out / run / "ema_choice.json").exists():
            continue
        model = load_trained(out / run, ema_decay=choose_ema(out / run, plan, store)["chosen"])
        scores = {str(flag): skill_of(model, store / "validation.zarr", plan["validation"],
                                      members=8, symmetry_members=flag)
                  for flag in (False, True)}
        best = max(scores, key=lambda f: scores[f]["T_mean"]["0.8"])
        path.write_text(json.dumps({"symmetry_members": best == "True", "validation": scores},
                                   indent=1))
        say(f"{run}: symmetry members {best} (T0.8 "
            f"{scores['False']['T_mean']['0.8']:.2f} off, {scores['True']['T_mean']['0.8']:.2f} on)")


def main(argv: list[str] | None = None) -> int:
    from rollflow.configio import load_toml

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", type=Path, default=HERE / "x4.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32x4")
    parser.add_argument("--data", type=Path, default=ROOT / "data/kf32")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    args = parser.parse_args(argv)
    plan = load_toml(args.plan)
    args.out.mkdir(parents=True, exist_ok=True)
    for stage in STAGES:
        if stage in args.stages:
            say(f"stage {stage}")
            if stage == "data":
                data(plan, args.out, args.data)
            elif stage == "train":
                train_teacher(plan, args.out, args.data)
            elif stage == "distill":
                distill(plan, args.out, args.data)
            elif stage == "select":
                select(plan, args.out, args.data)
            elif stage in ("forecast", "evaluate", "report"):
                from x4_test import run_stage

                run_stage(stage, plan, args.out, args.data)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted; finished work is kept, run the same command to resume")
        sys.exit(130)
