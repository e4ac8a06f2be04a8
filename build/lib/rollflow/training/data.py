"""Windows of consecutive frames from a lazily opened trajectory store.

`WindowDataset` item i ↔ (sample, start): frames start, start + s, …, start + (n−1)·s of one
sample (n = num_context + window_size, s = frame_stride), normalised with statistics of the
training samples. Each item reads only its own n frames from the store; the statistics are
streamed one sample at a time. The order of items is a function of (seed, step) only
(`StepBatchSampler`), so an interrupted run resumes with exactly the batches it would have
seen.

Symmetry augmentation (`rollflow.symmetry`): with `num_elements` > 0 the sampler pairs every
item with a group element drawn from (seed, step), the item becomes (i, element index), and
the dataset maps all n frames of the window with that one element before normalising —
still a function of (seed, step) only, so resumes stay exact.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import xarray as xr

from rollflow.conventions import SAMPLE, TIME, VORTICITY, X, Y
from rollflow.errors import DataError
from rollflow.symmetry import apply_element, element_from_index

__all__ = ["NormStats", "WindowDataset", "StepBatchSampler", "split_samples",
           "compute_norm_stats", "derive_seed", "check_grid"]


def derive_seed(seed: int, purpose: str, index: int = 0) -> int:
    """A 63-bit seed from (seed, purpose, index) — independent streams, no global state."""
    digest = hashlib.sha256(f"{seed}:{purpose}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


@dataclasses.dataclass(frozen=True)
class NormStats:
    """Mean and standard deviation of vorticity (1/t.u.) over the training samples."""

    mean: float
    std: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean) and math.isfinite(self.std) and self.std > 0):
            raise DataError(f"normalisation statistics must be finite with std > 0 "
                            f"(got mean={self.mean}, std={self.std})")


def check_grid(vorticity: xr.DataArray, grid_size: int | None) -> int:
    """The store's grid size; DataError if it is not square or differs from `grid_size`."""
    nx, ny = vorticity.sizes[X], vorticity.sizes[Y]
    if nx != ny:
        raise DataError(f"store grid is {nx}×{ny}; the model needs a square grid")
    if grid_size is not None and nx != grid_size:
        raise DataError(f"store grid is {nx}×{ny} but the model is built for "
                        f"{grid_size}×{grid_size}")
    return nx


def split_samples(num_samples: int, num_validation: int) -> tuple[list[int], list[int]]:
    """(train, validation) sample indices: the last `num_validation` samples validate."""
    if num_validation >= num_samples:
        raise DataError(f"store has {num_samples} samples; holding out {num_validation} for "
                        f"validation leaves none to train on")
    cut = num_samples - num_validation
    return list(range(cut)), list(range(cut, num_samples))


def compute_norm_stats(vorticity: xr.DataArray, samples: Sequence[int]) -> NormStats:
    """Mean/std over the given samples, reading one sample at a time (float64 sums)."""
    count, mean, m2 = 0, 0.0, 0.0
    for sample in samples:
        values = np.asarray(vorticity.isel({SAMPLE: sample}).values, dtype=np.float64)
        n, m = values.size, float(values.mean())
        s2 = float(np.square(values - m).sum())
        delta = m - mean
        total = count + n
        mean += delta * n / total
        m2 += s2 + delta**2 * count * n / total
        count = total
    if count == 0:
        raise DataError("no training samples to compute normalisation statistics from")
    return NormStats(mean=mean, std=math.sqrt(m2 / count))


class WindowDataset(torch.utils.data.Dataset):
    """Normalised windows (num_frames, H, W) float32 from a (sample, time, x, y) DataArray.

    Args:
        vorticity: the store's vorticity, lazily opened (dims sample, time, x, y).
        samples: sample indices this dataset draws from.
        num_frames: frames per window, n = num_context + window_size.
        frame_stride: step between used frames, in saved frames.
        stats: normalisation; items are (ω − mean)/std.
        data_path: the store's path; a DataLoader worker process reopens it from there.
        forcing_wavenumber: k_f of the store's flow; needed only to read items
            (index, element) that carry a symmetry element (`rollflow.symmetry`).
    """

    def __init__(self, vorticity: xr.DataArray, samples: Sequence[int], *, num_frames: int,
                 frame_stride: int = 1, stats: NormStats, data_path: str | None = None,
                 forcing_wavenumber: int | None = None):
        self.vorticity = vorticity
        self.forcing_wavenumber = forcing_wavenumber
        self.data_path = None if data_path is None else str(data_path)
        self.samples = list(samples)
        self.num_frames = num_frames
        self.frame_stride = frame_stride
        self.stats = stats
        span = (num_frames - 1) * frame_stride + 1
        available = vorticity.sizes[TIME]
        if available < span:
            raise DataError(f"store has {available} frames per sample; a window needs "
                            f"num_context + window_size = {num_frames} frames at stride "
                            f"{frame_stride}, i.e. {span} consecutive saved frames")
        self.starts_per_sample = available - span + 1

    def __len__(self) -> int:
        return len(self.samples) * self.starts_per_sample

    def __getstate__(self) -> dict:
        """Pickled for a DataLoader worker: the store path, not the opened store (zarr's
        I/O thread must not cross a process boundary; the worker reopens it)."""
        state = dict(self.__dict__)
        if self.data_path is not None:
            state["vorticity"] = None
        return state

    def _values(self) -> xr.DataArray:
        if self.vorticity is None:
            from rollflow.store import open_trajectories

            self.vorticity = open_trajectories(self.data_path)[VORTICITY]
        return self.vorticity

    def locate(self, index: int) -> tuple[int, int]:
        """Item index → (sample index in the store, first frame index)."""
        if not 0 <= index < len(self):
            raise IndexError(f"window {index} out of range [0, {len(self)})")
        which, start = divmod(index, self.starts_per_sample)
        return self.samples[which], start

    def __getitem__(self, item: int | tuple[int, int]) -> torch.Tensor:
        """Window `item` (an index), or (index, element index): the window mapped by that
        group element, every frame alike; (num_frames, H, W) float32, normalised."""
        index, element = item if isinstance(item, tuple) else (item, 0)
        sample, start = self.locate(index)
        stop = start + (self.num_frames - 1) * self.frame_stride + 1
        window = self._values().isel({SAMPLE: sample, TIME: slice(start, stop, self.frame_stride)})
        values = np.asarray(window.transpose(TIME, X, Y).values, dtype=np.float32)
        if element:
            if self.forcing_wavenumber is None:
                raise DataError("a symmetry element was asked for but the dataset was built "
                                "without the flow's forcing wavenumber")
            values = apply_element(values, element_from_index(
                element, values.shape[-1], self.forcing_wavenumber), self.forcing_wavenumber)
        values = (values - np.float32(self.stats.mean)) / np.float32(self.stats.std)
        return torch.from_numpy(np.ascontiguousarray(values))


class StepBatchSampler(torch.utils.data.Sampler):
    """Batches of item indices where batch k is a function of (seed, k) only.

    The items form an endless stream of per-epoch permutations (epoch e shuffled with a
    generator seeded from (seed, e)); batch k is stream positions [k·B, (k+1)·B). Iteration
    starts at `start_step` and never ends; with `rows` it yields only those rows of each
    batch (one process's share in data-parallel training). With `num_elements` > 0 each item
    of batch k comes as (index, element) with the element drawn uniformly from
    [0, num_elements) by a generator seeded from (seed, k): the same items as without it,
    each with its own symmetry element.
    """

    def __init__(self, num_items: int, batch_size: int, *, seed: int, start_step: int = 0,
                 rows: slice | None = None, num_elements: int = 0):
        if num_items < 1:
            raise DataError("the training set has no windows")
        self.num_items, self.batch_size = num_items, batch_size
        self.num_elements = num_elements
        self.seed, self.start_step = seed, start_step
        self.rows = rows   # this process's rows of each batch (data-parallel training)
        self._cache: dict[int, torch.Tensor] = {}

    def _permutation(self, epoch: int) -> torch.Tensor:
        if epoch not in self._cache:
            gen = torch.Generator().manual_seed(derive_seed(self.seed, "epoch", epoch))
            self._cache = {epoch: torch.randperm(self.num_items, generator=gen)}
        return self._cache[epoch]

    def position(self, step: int) -> tuple[int, int]:
        """(epoch, offset within the epoch) of the first item of batch `step`."""
        return divmod(step * self.batch_size, self.num_items)

    def batch(self, step: int) -> list:
        """Item indices of batch `step` (with `num_elements`, (index, element) pairs)."""
        first = step * self.batch_size
        out = []
        for pos in range(first, first + self.batch_size):
            epoch, offset = divmod(pos, self.num_items)
            out.append(int(self._permutation(epoch)[offset]))
        if self.num_elements:
            rng = np.random.default_rng(derive_seed(self.seed, "symmetry", step))
            elements = rng.integers(0, self.num_elements, size=len(out))
            return [(index, int(e)) for index, e in zip(out, elements)]
        return out

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while True:
            batch = self.batch(step)
            yield batch if self.rows is None else batch[self.rows]
            step += 1
