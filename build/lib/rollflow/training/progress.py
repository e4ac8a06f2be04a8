"""Drive a training run to its end behind a progress bar; Ctrl-C/SIGTERM keep a checkpoint.

`run_training(train(...))` is the one consumer of the loop's records that every caller
(the `rollflow train`/`distill` commands, the demo, experiment drivers) shares: it shows
loss, learning rate, validation loss and samples/s, and on KeyboardInterrupt (Ctrl-C, or
SIGTERM as `rollflow.errors.Terminated`) lets the loop write a checkpoint at the current
step before the interrupt propagates to the caller.
"""

from __future__ import annotations

import sys

__all__ = ["run_training"]


def _consume(records, show: bool = True) -> dict:
    from tqdm import tqdm

    first = next(records)
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
