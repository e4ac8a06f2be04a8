"""rollflow.solver (being built)."""

__all__: list[str] = []
