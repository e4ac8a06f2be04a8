"""Scoring in blocks: block sizes, and one read of each block for every scorer."""

import numpy as np
import pytest
import xarray as xr

from rollflow.analysis.blocks import block_samples, score_blocks
from rollflow.analysis.score_sums import merge_score_sums, per_state_scores, score_sums
from rollflow.errors import DataError


def _pair(rng, samples=5):
    dims = ("sample", "member", "time", "x", "y")
    forecast = xr.DataArray(rng.standard_normal((samples, 3, 4, 8, 8)).astype(np.float32),
                            dims=dims, coords={"sample": np.arange(samples),
                                               "time": 0.1 * np.arange(1, 5)})
    truth = xr.DataArray(rng.standard_normal((samples, 6, 8, 8)),
                         dims=("sample", "time", "x", "y"),
                         coords={"sample": np.arange(samples), "time": 0.1 * np.arange(6)})
    return forecast, truth


def test_block_size_follows_the_memory_budget(rng):
    forecast, _ = _pair(rng)
    per_sample = 3 * 4 * 8 * 8 * 4                      # bytes of one float32 sample
    assert block_samples(forecast, 2 * per_sample / 2**20) == 2
    assert block_samples(forecast, 1e-9) == 1           # never below one sample
    with pytest.raises(DataError, match="block_mb must be > 0"):
        block_samples(forecast, 0)


def test_every_scorer_gets_every_block_aligned(rng):
    """Two scorers on blocks of 2 of 5 samples: one progress step per block, and the
    blocks' sums merge to the sums of the whole forecast (float64 sums of 5 terms
    re-associated: relative difference ≤ 5 ε₆₄ ≈ 1e-15, asserted at 1e-12)."""
    forecast, truth = _pair(rng)
    forecast = forecast.astype(np.float64).chunk(sample=1)
    seen = []
    both = {"a": lambda f, t: score_sums(per_state_scores(f, t)),
            "b": lambda f, t: (f.mean("member") - t).rename("d").to_dataset()}
    parts = score_blocks(forecast, truth, both, block_samples=2, progress=seen.append)
    assert seen == [2, 2, 1] and [len(p) for p in parts.values()] == [3, 3]
    aligned = truth.isel(time=slice(1, 5)).assign_coords(time=forecast.time)
    whole = score_sums(per_state_scores(forecast, aligned))
    merged = merge_score_sums(parts["a"])
    np.testing.assert_allclose(merged["sum"], whole["sum"], rtol=1e-12)
    np.testing.assert_array_equal(merged["count"], whole["count"])
    difference = xr.concat(parts["b"], dim="sample")["d"]
    np.testing.assert_array_equal(difference, forecast.mean("member") - aligned)
    with pytest.raises(DataError, match="block_samples must be ≥ 1"):
        score_blocks(forecast, truth, both, block_samples=0)
