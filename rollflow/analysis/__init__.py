"""rollflow.analysis (being built)."""

__all__: list[str] = []
