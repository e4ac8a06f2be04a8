"""Where a number came from: the commit and the machine, for docs, cards and summaries.

Stdlib only (the bottom layer). Every figure a document quotes carries these two strings, so
that a reader can rerun the command on the same commit and compare on a like machine.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

__all__ = ["git_commit", "machine_description"]


def git_commit(root: str | Path | None = None) -> str:
    """The short commit hash of HEAD in `root` (default: the working directory);
    "unknown" outside a git checkout or without git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=False)
    except OSError:
        return "unknown"
    return head.stdout.strip() if head.returncode == 0 and head.stdout.strip() else "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description() -> str:
    """One line: CPU model, core count, OS and Python (e.g. "AMD EPYC 7B13, 2 CPU cores,
    Linux x86_64, Python 3.12.3")."""
    return (f"{_cpu_model()}, {os.cpu_count()} CPU cores, {platform.system()} "
            f"{platform.machine()}, Python {platform.python_version()}")
