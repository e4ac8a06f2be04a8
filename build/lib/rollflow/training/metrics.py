"""The run's metrics log (`metrics.jsonl`) and its loss-curve figure (`loss.png`).

One JSON object per line with at least `kind` ("train" or "validation") and `step` (the
number of completed optimisation steps). On resume, lines beyond the checkpoint's step are
dropped so the log describes exactly the weights on disk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["MetricsLog", "plot_loss_curve"]


class MetricsLog:
    """Append-only JSONL file of metric records."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as a line (flushed, so a crash keeps what was logged)."""
        with self.path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")

    def read(self) -> list[dict[str, Any]]:
        """All records; a torn last line (crash while writing) is ignored."""
        if not self.path.is_file():
            return []
        records = []
        for line in self.path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def truncate_after(self, step: int) -> None:
        """Keep only records with `step` ≤ the given step (atomic rewrite)."""
        kept = [r for r in self.read() if r.get("step", 0) <= step]
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
        os.replace(tmp, self.path)


def plot_loss_curve(records: list[dict[str, Any]], path: str | Path, *,
                    title: str = "") -> None:
    """Training loss (per log interval) and validation loss (EMA weights) vs step, log y.

    Drawn on a pyplot-free Figure (no global backend switch); an empty log gives an empty
    plot without warnings (a checkpoint can come before the first log line)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    train = [(r["step"], r["loss"]) for r in records if r.get("kind") == "train"]
    valid = [(r["step"], r["val_loss"]) for r in records if r.get("kind") == "validation"]
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if train:
        ax.plot(*zip(*train), label="train loss", lw=1)
    if valid:
        ax.plot(*zip(*valid), "o-", label="validation loss (EMA)", ms=3)
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("loss")
    if any(v > 0 for _, v in train + valid):
        ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if train or valid:
        ax.legend()
    fig.tight_layout()
    tmp = Path(path).with_name(Path(path).stem + ".tmp.png")
    fig.savefig(tmp)
    os.replace(tmp, path)
