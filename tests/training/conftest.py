"""Fixtures for the training tests."""

import pytest

from training_fixtures import travelling_waves, write_store


@pytest.fixture
def store(tmp_path):
    """3 samples × 12 frames × 16² (sample 2 validates)."""
    return write_store(tmp_path / "tiny.zarr", travelling_waves(3, 12, 16))
