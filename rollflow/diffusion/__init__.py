"""rollflow.diffusion (being built)."""

__all__: list[str] = []
