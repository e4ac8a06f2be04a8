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

__all__ = ["writer_lock", "lock_path", "WriterLock"]


def lock_path(path: str | os.PathLike) -> Path:
    """The lock file of an output: `.<name>.lock` in the same directory."""
    path = Path(path).resolve()
    return path.parent / f".{path.name}.lock"


def _holder(lock: Path) -> str:
    try:
        return lock.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


class WriterLock:
    """The held lock of one output (see the module docstring); `release()` or garbage
    collection (closing the descriptor) lets it go."""

    def __init__(self, path: str | os.PathLike) -> None:
        self._fd: int | None = None
        self.path, self.file = Path(path), lock_path(path)
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise StoreError(f"cannot create {path}: {err.strerror or err}") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise StoreError(f"{path} is being written by another process (PID "
                             f"{_holder(self.file)}); wait for it to finish or choose another "
                             f"output") from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.release()


@contextlib.contextmanager
def writer_lock(path: str | os.PathLike) -> Iterator[Path]:
    """Hold the exclusive writer lock of `path` for the `with` block (see the module)."""
    lock = WriterLock(path)
    try:
        yield lock.file
    finally:
        lock.release()
