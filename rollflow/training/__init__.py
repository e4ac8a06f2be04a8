"""rollflow.training (being built)."""

__all__: list[str] = []
