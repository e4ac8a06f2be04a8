"""Physics checks recorded per sample: NaN until written, written before the flag, read
back only when they describe the store's spec, never part of the trajectories."""

import dataclasses

import numpy as np
import pytest

from rollflow import store
from rollflow.errors import DataError

FORMATS = ["t.zarr", "t.nc"]


def _checks(values: np.ndarray) -> dict[str, np.ndarray]:
    return {name: values + i for i, name in enumerate(store.CHECKS)}


@pytest.mark.parametrize("name", FORMATS)
def test_checks_are_written_with_their_samples_and_read_back(tmp_path, tiny_spec, name):
    path = tmp_path / name
    store.create_store(path, tiny_spec)
    everything = np.arange(tiny_spec.num_samples)
    assert store.recorded_checks(path, tiny_spec, everything) is None      # all NaN
    frames = np.zeros((2, tiny_spec.num_frames, 8, 8), np.float32)
    store.write_samples(path, frames, 1, _checks(np.array([0.5, -0.25])))
    got = store.recorded_checks(path, tiny_spec, np.array([1, 2]))
    for i, check in enumerate(store.CHECKS):
        np.testing.assert_array_equal(got[check].values, np.array([0.5, -0.25]) + i)
    assert store.recorded_checks(path, tiny_spec, np.array([0, 1])) is None  # 0 unwritten
    with store.open_trajectories(path, allow_incomplete=True) as ds:
        assert list(ds.data_vars) == ["vorticity"]


def test_checks_of_other_physics_are_not_read(tmp_path, tiny_spec):
    path = tmp_path / "t.zarr"
    store.create_store(path, tiny_spec)
    store.write_samples(path, np.zeros((5, tiny_spec.num_frames, 8, 8), np.float32), 0,
                        _checks(np.linspace(0, 1, 5)))
    samples = np.arange(5)
    assert store.recorded_checks(path, tiny_spec, samples) is not None
    relabelled = dataclasses.replace(tiny_spec, viscosity=2e-3)
    assert store.recorded_checks(path, relabelled, samples) is None


def test_bad_checks_are_refused_before_the_flag(tmp_path, tiny_spec):
    path = tmp_path / "t.zarr"
    store.create_store(path, tiny_spec)
    frames = np.zeros((2, tiny_spec.num_frames, 8, 8), np.float32)
    with pytest.raises(DataError, match="non-finite"):
        store.write_samples(path, frames, 0, _checks(np.array([0.0, np.nan])))
    with pytest.raises(DataError, match="lack"):
        store.write_samples(path, frames, 0, {"injection": np.ones(2)})
    with pytest.raises(DataError, match="one value per sample"):
        store.write_samples(path, frames, 0, _checks(np.ones(3)))
    assert not store.completed_samples(path).any()


def test_a_store_made_before_checks_takes_none(tmp_path, tiny_spec):
    path = tmp_path / "old.zarr"
    frames = np.zeros((tiny_spec.num_samples, tiny_spec.num_frames, 8, 8), np.float32)
    store.save_dataset(store.trajectories_to_dataset(frames, tiny_spec), path)
    assert not store.write_sample_checks(path, 0, _checks(np.ones(2)))
    assert store.recorded_checks(path, tiny_spec, np.arange(2)) is None
