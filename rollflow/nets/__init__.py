"""rollflow.nets (being built)."""

__all__: list[str] = []
