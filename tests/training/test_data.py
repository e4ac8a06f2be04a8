"""WindowDataset reads only its windows; statistics come from the training samples only."""

import numpy as np
import pytest
import torch
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

from rollflow.conventions import TRAJECTORY_DIMS, VORTICITY
from rollflow.errors import DataError
from rollflow.store import open_trajectories
from rollflow.training import (NormStats, StepBatchSampler, WindowDataset, compute_norm_stats,
                               split_samples)
from rollflow.training.data import check_grid

from training_fixtures import travelling_waves, write_store


class CountingArray(BackendArray):
    """A lazily indexed array that records how many elements each read returns."""

    def __init__(self, values: np.ndarray):
        self.values, self.shape, self.dtype = values, values.shape, values.dtype
        self.reads: list[int] = []

    def __getitem__(self, key):
        return indexing.explicit_indexing_adapter(key, self.shape,
                                                  indexing.IndexingSupport.BASIC, self._raw)

    def _raw(self, key):
        out = self.values[key]
        self.reads.append(out.size)
        return out


def counting_vorticity(values: np.ndarray) -> tuple[xr.DataArray, CountingArray]:
    backend = CountingArray(values)
    variable = xr.Variable(TRAJECTORY_DIMS, indexing.LazilyIndexedArray(backend))
    return xr.Dataset({VORTICITY: variable})[VORTICITY], backend


def test_items_read_only_their_frames():
    values = travelling_waves(3, 12, 16)
    vorticity, backend = counting_vorticity(values)
    dataset = WindowDataset(vorticity, [0, 1], num_frames=3, frame_stride=2,
                            stats=NormStats(0.0, 1.0))
    assert backend.reads == []  # construction reads nothing
    assert len(dataset) == 2 * (12 - 5 + 1)
    for index in (0, 7, len(dataset) - 1):
        item = dataset[index]
        assert item.shape == (3, 16, 16) and item.dtype == torch.float32
    assert backend.reads and max(backend.reads) == 3 * 16 * 16
    sample, start = dataset.locate(len(dataset) - 1)
    np.testing.assert_array_equal(dataset[len(dataset) - 1].numpy(),
                                  values[sample, start:start + 5:2])


def test_statistics_stream_over_training_samples_only():
    values = travelling_waves(3, 12, 16)
    values[2] += 100.0  # the validation sample is far off
    vorticity, backend = counting_vorticity(values)
    train, validation = split_samples(3, 1)
    assert (train, validation) == ([0, 1], [2])
    stats = compute_norm_stats(vorticity, train)
    assert stats.mean == pytest.approx(values[:2].astype(np.float64).mean(), rel=1e-9)
    assert stats.std == pytest.approx(values[:2].astype(np.float64).std(), rel=1e-9)
    assert max(backend.reads) == 12 * 16 * 16  # one sample at a time, never the store


def test_normalised_items(store):
    vorticity = open_trajectories(store)[VORTICITY]
    stats = compute_norm_stats(vorticity, [0, 1])
    dataset = WindowDataset(vorticity, [0, 1], num_frames=3, stats=stats)
    items = torch.stack([dataset[i] for i in range(len(dataset))])
    assert abs(float(items.mean())) < 0.2 and 0.8 < float(items.std()) < 1.2


def test_too_few_frames_names_the_numbers():
    vorticity, _ = counting_vorticity(travelling_waves(2, 6, 16))
    with pytest.raises(DataError, match=r"6 frames.*= 4 frames at stride 2.*7 consecutive"):
        WindowDataset(vorticity, [0], num_frames=4, frame_stride=2, stats=NormStats(0, 1))


def test_grid_mismatch_and_bad_split():
    vorticity, _ = counting_vorticity(travelling_waves(2, 6, 16))
    assert check_grid(vorticity, None) == 16
    with pytest.raises(DataError, match="16×16 but the model is built for 32×32"):
        check_grid(vorticity, 32)
    with pytest.raises(DataError, match="leaves none to train"):
        split_samples(2, 2)


def test_batches_depend_only_on_seed_and_step():
    sampler = StepBatchSampler(10, 4, seed=7)
    batches = [sampler.batch(k) for k in range(5)]
    later = StepBatchSampler(10, 4, seed=7, start_step=3)
    assert next(iter(later)) == batches[3]
    stream = sum(batches, [])
    assert sorted(stream[:10]) == list(range(10))  # epoch 0 is a permutation
    assert sorted(stream[10:20]) == list(range(10))
    assert stream[:10] != stream[10:20]  # reshuffled per epoch
    assert StepBatchSampler(10, 4, seed=8).batch(0) != batches[0] or \
        StepBatchSampler(10, 4, seed=8).batch(1) != batches[1]
    assert sampler.position(3) == (1, 2)


def test_symmetry_items_map_every_frame_alike(store):
    from rollflow.symmetry import apply_element, element_from_index

    vorticity = open_trajectories(store)[VORTICITY]
    stats = NormStats(mean=0.1, std=2.0)
    dataset = WindowDataset(vorticity, [0, 1], num_frames=3, stats=stats,
                            forcing_wavenumber=4)
    raw = np.asarray(vorticity.isel(sample=1, time=slice(4, 7)).values, dtype=np.float32)
    index = dataset.starts_per_sample + 4            # sample 1, frames 4, 5, 6
    for element in (0, 3, 37, 200, 255):
        g = element_from_index(element, 16, 4)
        expected = (apply_element(raw, g, 4) - np.float32(0.1)) / np.float32(2.0)
        assert np.array_equal(dataset[(index, element)].numpy(), expected)
    assert np.array_equal(dataset[(index, 0)].numpy(), dataset[index].numpy())
    plain = WindowDataset(vorticity, [0, 1], num_frames=3, stats=stats)
    with pytest.raises(DataError, match="forcing wavenumber"):
        plain[(index, 5)]


def test_augmented_batches_keep_the_order_and_depend_only_on_seed_and_step():
    plain = StepBatchSampler(10, 4, seed=7)
    augmented = StepBatchSampler(10, 4, seed=7, num_elements=512)
    batches = [augmented.batch(k) for k in range(6)]
    assert [[i for i, _ in b] for b in batches] == [plain.batch(k) for k in range(6)]
    elements = [e for b in batches for _, e in b]
    assert all(0 <= e < 512 for e in elements) and len(set(elements)) > 12
    resumed = StepBatchSampler(10, 4, seed=7, start_step=4, num_elements=512)
    assert next(iter(resumed)) == batches[4]
    rank1 = StepBatchSampler(10, 4, seed=7, num_elements=512, rows=slice(2, 4))
    assert next(iter(rank1)) == batches[0][2:4]
    assert StepBatchSampler(10, 4, seed=8, num_elements=512).batch(0) != batches[0]


def test_preloaded_vorticity_lives_in_memory_and_only_below_the_limit(store):
    import shutil

    from rollflow.store import open_trajectories
    from rollflow.training.state import preloaded

    lazy = open_trajectories(store)["vorticity"]
    expected = lazy.values.copy()
    assert preloaded(lazy, limit_mib=0) is lazy                  # above the limit: as it is
    loaded = preloaded(open_trajectories(store)["vorticity"], limit_mib=1)   # 36 KiB store
    shutil.rmtree(store)                    # the store is gone; the loaded copy still reads
    np.testing.assert_array_equal(loaded.values, expected)
