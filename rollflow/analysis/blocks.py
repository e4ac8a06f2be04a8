"""Scoring a forecast store larger than memory: blocks of samples, every scorer per block.

`block_samples` sizes a block so that it holds about `block_mb` MiB of forecast values;
`score_blocks` walks the blocks of a (sample, member, time, x, y) forecast once, behind one
progress bar, and computes every scorer on each (the headline scores and the additive
score sums of one `rollflow evaluate`). The blocks stay lazy (dask): each scorer streams
the store's chunks, so peak memory follows the chunks, not the block (measured: a 1 MiB
block of 4 members × 64 frames at 32² evaluates within 32 MiB, tests/cli/test_evaluate.py);
the price is that dask reads a chunk again for each scorer (and metric), cheap next to the
scoring at the grids rollflow forecasts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import xarray as xr

from rollflow.analysis.scores import align_truth
from rollflow.conventions import SAMPLE
from rollflow.errors import DataError

__all__ = ["block_samples", "score_blocks"]

Scorer = Callable[[xr.DataArray, xr.DataArray], xr.Dataset]


def block_samples(forecast: xr.DataArray, block_mb: float) -> int:
    """Samples per block so that one block holds about `block_mb` MiB of `forecast` (≥ 1)."""
    if not block_mb > 0:
        raise DataError(f"block_mb must be > 0 (got {block_mb})")
    per_sample = forecast.dtype.itemsize * forecast.size // max(1, forecast.sizes[SAMPLE])
    return max(1, int(block_mb * 2**20 // max(1, per_sample)))


def score_blocks(forecast: xr.DataArray, truth: xr.DataArray, scorers: Mapping[str, Scorer], *,
                 block_samples: int,
                 progress: Callable[[int], None] | None = None) -> dict[str, list[xr.Dataset]]:
    """Each scorer's computed result on each block of `block_samples` samples.

    Args:
        forecast: (sample, member, time, x, y), lazy or in memory.
        truth: (sample, time, x, y) holding the forecast's samples and times.
        scorers: name → f(forecast block, truth block aligned to it) → Dataset along sample.
        block_samples: samples per block (≥ 1).
        progress: called with the number of samples of each finished block.

    Returns:
        name → the list of its per-block results, in sample order (the caller merges them:
        concatenation along `sample`, or adding sums).
    """
    if block_samples < 1:
        raise DataError(f"block_samples must be ≥ 1 (got {block_samples})")
    aligned = align_truth(forecast, truth)
    out: dict[str, list[xr.Dataset]] = {name: [] for name in scorers}
    for first in range(0, forecast.sizes[SAMPLE], block_samples):
        part = {SAMPLE: slice(first, first + block_samples)}
        f_block, t_block = forecast.isel(part), aligned.isel(part)
        for name, scorer in scorers.items():
            out[name].append(scorer(f_block, t_block).compute())
        if progress is not None:
            progress(f_block.sizes[SAMPLE])
    return out
