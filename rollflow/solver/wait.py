"""Wait for a jitted computation without deafening the process to Ctrl-C and SIGTERM.

Python runs signal handlers only in the main thread, between bytecodes; a thread blocked
inside XLA for a long chunk (tens of seconds at 512², minutes at 4096²) hears nothing
until the chunk ends. `run_ready` runs the call (compilation included) and blocks in a
helper thread instead (with the caller's thread-local `jax_enable_x64`), and lets the main
thread poll every `POLL_SECONDS`, so a signal's KeyboardInterrupt (or `Terminated`) is
raised within that time. The abandoned computation finishes or dies with the process; no
result of it is used, and the callers write only completed batches. A process that stops
while such a computation still runs must leave with `os._exit` (after flushing): normal
interpreter shutdown would cancel the helper thread inside XLA's C++ code and abort
(`abandoned()` tells; `rollflow.cli.main` does this).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import jax

__all__ = ["run_ready", "wait_ready", "abandoned", "POLL_SECONDS"]

POLL_SECONDS = 0.2
_RUNNING: set[threading.Thread] = set()


def abandoned() -> bool:
    """True while a computation left behind by an interrupted `wait_ready` still runs."""
    return any(thread.is_alive() for thread in _RUNNING)


def run_ready(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` (a jitted call: compilation, dispatch) blocked until its result is
    computed, interruptible by signals when called from the main thread (elsewhere it
    simply runs); an error of the computation is re-raised here."""
    if threading.current_thread() is not threading.main_thread():
        return jax.block_until_ready(fn(*args))
    done, result, failure = threading.Event(), [], []
    x64 = bool(jax.config.read("jax_enable_x64"))    # a thread-local setting: carried over

    def work() -> None:
        try:
            with jax.enable_x64(x64):
                result.append(jax.block_until_ready(fn(*args)))
        except BaseException as err:       # noqa: BLE001 — handed to the main thread
            failure.append(err)
        finally:
            done.set()
            _RUNNING.discard(threading.current_thread())

    thread = threading.Thread(target=work, daemon=True, name="rollflow-solver")
    _RUNNING.add(thread)
    thread.start()
    while not done.wait(POLL_SECONDS):
        pass
    if failure:
        raise failure[0]
    return result[0]


def wait_ready(*values: Any) -> None:
    """`jax.block_until_ready(values)` with the same interruptibility as `run_ready`."""
    run_ready(lambda: values)
