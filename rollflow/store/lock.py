"""One writer per store: an exclusive advisory lock held for as long as a command writes.

`writer_lock(path)` takes `fcntl.flock(LOCK_EX | LOCK_NB)` on a hidden file beside the
output, `.<name>.lock`, and writes the holder's PID into it. A second writer of the same
output gets a StoreError in one line naming that PID. The kernel drops the lock when the
holder's process ends in any way (exit, Ctrl-C, SIGKILL), so a lock file left behind by a
dead process is stale and simply taken over: no manual cleanup. The lock file itself is
kept (removing it would let a waiting process lock an unlinked inode while a third locks
a new file of the same name).

Whole-command scope: `rollflow simulate`, `forecast` and the training run directory hold
it from opening the output to the last write; workers of a Dask cluster write regions
under their coordinator's lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from rollflow.errors import StoreError

__all__ = ["writer_lock", "lock_path"]


def lock_path(path: str | os.PathLike) -> Path:
    """The lock file of an output: `.<name>.lock` in the same directory."""
    path = Path(path).resolve()
    return path.parent / f".{path.name}.lock"


def _holder(lock: Path) -> str:
    try:
        return lock.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


@contextlib.contextmanager
def writer_lock(path: str | os.PathLike) -> Iterator[Path]:
    """Hold the exclusive writer lock of `path` for the `with` block (see the module)."""
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{path} is being written by another process (PID "
                             f"{_holder(lock)}); wait for it to finish or choose another "
                             f"output") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield lock
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
