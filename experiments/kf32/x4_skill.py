"""Validation skill of a model and the choice among a run's kept EMAs, shared by the
stages of experiments/kf32/x4.py (train, distill, select). Library calls only."""

from __future__ import annotations

import json
from pathlib import Path

from rollflow.analysis.skill import skill_record
from rollflow.forecast import frames_for_horizon, scored_forecast, settings_from_plan
from rollflow.store import open_trajectories
from rollflow.training import latest_checkpoint, load_checkpoint, load_trained
from x4_test import say


def skill_of(model, truth_path: Path, settings: dict, members=None, symmetry_members=False):
    """Validation (or test) T of a model: ensemble mean and single member, t.u."""
    chosen = settings_from_plan(settings, num_frames=frames_for_horizon(model, settings["frames"]),
                                symmetry_members=symmetry_members,
                                **({"num_members": members} if members else {}))
    _, skill = scored_forecast(model, open_trajectories(truth_path), chosen, num_resamples=200)
    record = skill_record(skill)
    return {k: record[k] for k in ("T_mean", "T_member", "seconds_per_time_unit")}


def choose_ema(run_dir: Path, plan: dict, store: Path) -> dict:
    """Every kept EMA of the run's last checkpoint on validation; the best T0.8 chosen."""
    path = run_dir / "ema_choice.json"
    if path.exists():
        return json.loads(path.read_text())
    if (ckpt := load_checkpoint(latest_checkpoint(run_dir))).step < ckpt.config.optim.total_steps:
        raise SystemExit(f"{run_dir.name} is at step {ckpt.step}: finish its training first")
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
