"""Run the stages of a resumable experiment driver in order, the way every driver in
`experiments/` does: a line per stage on stderr, Ctrl-C / SIGTERM answered with how to
resume (exit code 130), each stage skipping what it finished before.

Stdlib only (the bottom layer): a stage is any callable; what it computes is the library's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping

__all__ = ["announcer", "run_stages"]


def announcer(name: str) -> Callable[[str], None]:
    """`say(text)` printing "[name] text" to stderr, flushed (progress of a driver)."""
    def say(text: str) -> None:
        print(f"[{name}] {text}", file=sys.stderr, flush=True)
    return say


def run_stages(actions: Mapping[str, Callable[[], object]], chosen: Iterable[str],
               say: Callable[[str], None]) -> int:
    """Run the `chosen` stages in the order of `actions` (unknown names raise KeyError
    before anything runs); 0 when all finished, 130 after an interrupt (finished work is
    kept; the same command resumes)."""
    chosen = set(chosen)
    unknown = chosen - set(actions)
    if unknown:
        raise KeyError(f"unknown stages {sorted(unknown)}; known: {list(actions)}")
    try:
        for stage, action in actions.items():
            if stage in chosen:
                say(f"stage {stage}")
                action()
    except KeyboardInterrupt:
        say("interrupted; finished work is kept, run the same command to resume")
        return 130
    return 0
