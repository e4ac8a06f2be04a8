"""The `rollflow` command: a thin dispatcher over sub-command modules.

Each module `rollflow/cli/<name>.py` that defines `add_parser(subparsers)` is a
sub-command; it registers its arguments and `set_defaults(run=<callable(args) -> int>)`.
Modules keep heavy imports (jax, torch) inside their run functions so `rollflow --help`
stays fast. Errors a user can fix (`RollflowError`, missing/unwritable paths) are printed
as one line, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import signal
import sys
import threading
from collections.abc import Sequence

from rollflow.errors import RollflowError, Terminated

__all__ = ["main", "build_parser"]


def _command_modules() -> list:
    package = sys.modules[__name__]
    modules = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "add_parser"):
            modules.append(module)
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rollflow",
        description="Forecast 2D Kolmogorov flow with rolling diffusion and judge it "
                    "against numerical solvers.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module in _command_modules():
        module.add_parser(subparsers)
    return parser


def _terminate(signum, frame) -> None:
    raise Terminated


def _run(args: argparse.Namespace) -> int:
    """The command with SIGTERM raising `Terminated` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return int(args.run(args) or 0)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.run(args) or 0)
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 2 an error the user can fix —
    bad input, an unreadable or unwritable path, a full disk —, 130 interrupted by Ctrl-C,
    143 by SIGTERM — both keep finished work; 1 is left to bugs, with their traceback)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except RollflowError as err:
        print(f"rollflow {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as err:
        where = f": {err.filename}" if getattr(err, "filename", None) else ""
        print(f"rollflow {args.command}: error: {err.strerror or err}{where}", file=sys.stderr)
        return 2
    except OSError as err:   # e.g. ENOSPC, EROFS: finished work stays consistent
        where = f": {err.filename}" if getattr(err, "filename", None) else ""
        print(f"rollflow {args.command}: error: {err.strerror or err}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        how = "terminated (SIGTERM)" if isinstance(err, Terminated) else "interrupted"
        print(f"rollflow {args.command}: {how}; finished work is kept, "
              "re-run the same command to resume", file=sys.stderr)
        code = 143 if isinstance(err, Terminated) else 130
        _leave_if_solver_running(code)
        return code


def _leave_if_solver_running(code: int) -> None:
    """Exit at once when an interrupted solver chunk still runs in XLA (finished work is
    already on disk): the normal shutdown would cancel its thread inside C++ and abort."""
    import os

    wait = sys.modules.get("rollflow.solver.wait")
    if wait is not None and wait.abandoned():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
