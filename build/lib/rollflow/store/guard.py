"""Outputs never destroy inputs: an output path may not be, contain, or lie inside an input.

Checked on resolved paths (symlinks and `..` followed) before anything is written, with or
without --overwrite, so no flag can turn a typo into data loss.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rollflow.errors import StoreError

__all__ = ["check_not_input"]


def _related(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def check_not_input(output: str | os.PathLike, inputs: Iterable[str | os.PathLike | None], *,
                    what: str = "--out") -> None:
    """StoreError (one line) if `output` is, contains or lies inside one of `inputs`
    (None entries and inputs that are not paths on disk, e.g. model names, are skipped)."""
    out = Path(output).resolve()
    for item in inputs:
        if item is None or not Path(item).exists():
            continue
        source = Path(item).resolve()
        if _related(out, source):
            relation = ("is" if out == source else "lies inside" if source in out.parents
                        else "contains")
            raise StoreError(f"{what} {output} {relation} the input {item}; writing there "
                             f"would destroy it — choose another {what} (nothing was written)")
