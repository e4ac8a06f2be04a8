"""Where a number came from: the commit and the machine, for docs, cards and summaries.

Stdlib only (the bottom layer). Every figure a document quotes carries these two strings, so
that a reader can rerun the command on the same commit and compare on a like machine.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

__all__ = ["git_commit", "machine_description", "file_at_commit"]


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


def file_at_commit(commit: str, path: str, target: str | Path,
                   root: str | Path | None = None) -> Path:
    """Write the file `path` as it was at `commit` of the repository at `root` to `target`
    (through a temporary file, so `target` is whole or absent), e.g. weights that shipped
    under a name a later model took. FileNotFoundError in one line when git has no such
    file (or no such commit, or there is no git)."""
    target = Path(target)
    try:
        blob = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=root,
                              capture_output=True, check=False)
    except OSError:
        blob = None
    if blob is None or blob.returncode != 0:
        raise FileNotFoundError(f"git has no {path} at commit {commit} (a full clone of the "
                                "repository is needed)")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(blob.stdout)
    partial.replace(target)
    return target
