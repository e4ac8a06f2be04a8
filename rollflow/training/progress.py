"""Drive a training run to its end behind a progress bar; Ctrl-C/SIGTERM keep a checkpoint.

`run_training(train(...))` is the one consumer of the loop's records that every caller
(the `rollflow train`/`distill` commands, the demo, experiment drivers) shares: it shows
loss, learning rate, validation loss and samples/s, and on KeyboardInterrupt (Ctrl-C, or
SIGTERM as `rollflow.errors.Terminated`) lets the loop write a checkpoint at the current
step before the interrupt propagates to the caller.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["run_training", "train_until", "learning_curve"]


def _consume(records, show: bool = True) -> dict:
    from tqdm import tqdm

    first = next(records)
    if show and first.get("notice"):
        print(first["notice"], file=sys.stderr)
    bar = tqdm(total=first["end"], initial=first["step"], unit="step", dynamic_ncols=True,
               desc=f"train ({first['device']})", file=sys.stderr, disable=not show)
    smooth, postfix, last = None, {}, first
    with bar:
        for record in records:
            last = record
            if record["kind"] == "step":
                smooth = record["loss"] if smooth is None else 0.9 * smooth + 0.1 * record["loss"]
                postfix.update(loss=f"{smooth:.4g}", lr=f"{record['lr']:.2e}")
                bar.update(record["step"] - bar.n)
                bar.set_postfix(postfix, refresh=False)
            elif record["kind"] == "validation":
                postfix["val"] = f"{record['val_loss']:.4g}"
            elif record["kind"] == "train":
                postfix["samples/s"] = f"{record['samples_per_s']:.3g}"
    return last


def _checkpoint_on_interrupt(records) -> None:
    """Let the loop checkpoint if Ctrl-C landed here rather than inside it."""
    try:
        records.throw(KeyboardInterrupt)
    except (KeyboardInterrupt, StopIteration):
        pass


def run_training(records, show: bool = True) -> dict:
    """Consume `rollflow.training.train` records behind a progress bar; return the last.

    On Ctrl-C the loop writes a checkpoint at the current step, then KeyboardInterrupt
    propagates to the caller.
    """
    try:
        return _consume(records, show)
    except KeyboardInterrupt:
        _checkpoint_on_interrupt(records)
        raise


def train_until(config, data_path, run_dir, stop: int | None = None, *,
                show: bool = True) -> int:
    """Resume (or start) the run in `run_dir` and train it up to step `stop` (default: the
    config's total_steps) unless its newest checkpoint is there already; return the run's
    step afterwards. The staged drivers' "train to the next learning-curve point"."""
    from rollflow.training.checkpoint import latest_progress
    from rollflow.training.loop import train

    stop = config.optim.total_steps if stop is None else stop
    if latest_progress(run_dir)[0] < stop:
        run_training(train(config, data_path, run_dir, resume=True, stop_at=stop), show)
    return latest_progress(run_dir)[0]


def learning_curve(config, data_path, run_dir, stops, score, path, *, show: bool = True,
                   say=None) -> list[dict]:
    """Train the run up to each step of `stops` in turn and score it there once: each entry
    {step, cpu_hours, samples_seen, **score(run_dir)} is appended to the JSON list at
    `path` as soon as it is known (written atomically; a rerun resumes training and skips scored steps).
    `score(run_dir)` returns a JSON-ready dict (e.g. validation skill). Returns the curve."""
    from rollflow.training.checkpoint import latest_progress, write_text_atomically

    path = Path(path)
    curve = json.loads(path.read_text()) if path.exists() else []
    for stop in stops:
        if train_until(config, data_path, run_dir, stop, show=show) != stop or any(
                entry["step"] == stop for entry in curve):
            continue
        info = latest_progress(run_dir)[1]
        curve.append({"step": stop, "cpu_hours": info.get("cpu_seconds", 0.0) / 3600.0,
                      "samples_seen": info.get("samples_seen"), **score(run_dir)})
        write_text_atomically(path, json.dumps(curve, indent=1))
        if say:
            say(curve[-1])
    return curve
