"""Exception types. The CLI turns any `RollflowError` into a one-line message."""

from __future__ import annotations

__all__ = [
    "RollflowError", "SpecError", "ConfigError", "StoreError", "SolverBlowUpError",
    "CheckpointError", "DataError", "Terminated",
]


class RollflowError(Exception):
    """Base class for errors a user can fix; printed without a traceback by the CLI."""


class SpecError(RollflowError, ValueError):
    """A physics/grid/time specification violates its allowed range."""


class ConfigError(RollflowError, ValueError):
    """A TOML config is missing, malformed or has unknown keys."""


class StoreError(RollflowError):
    """A trajectory store is missing, foreign, inconsistent or would be clobbered."""


class SolverBlowUpError(RollflowError, FloatingPointError):
    """The solver produced non-finite or runaway vorticity."""


class CheckpointError(RollflowError):
    """A model checkpoint is missing, corrupted or belongs to another model."""


class DataError(RollflowError, ValueError):
    """Input arrays have wrong dims, coordinates, shapes or contain NaNs."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, the end of a background session): handled exactly like Ctrl-C —
    finished work is kept — but the command exits with 143 (128 + SIGTERM)."""
