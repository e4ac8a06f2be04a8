"""Resumable stores of datasets led by `sample` (forecasts): allocate, write, resume."""

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from rollflow.errors import DataError, StoreError
from rollflow.store import (completed_samples, create_sample_store, mark_completed,
                            open_trajectories, save_dataset, update_attrs,
                            write_sample_region)


def _template(num_samples=3, members=2):
    lazy = da.full((num_samples, members, 4, 8, 8), np.nan, np.float32,
                   chunks=(1, 1, 4, 8, 8))
    return xr.Dataset({"vorticity": (("sample", "member", "time", "x", "y"), lazy)},
                      coords={"sample": np.arange(num_samples), "member": np.arange(members),
                              "time": np.arange(4) * 0.2, "x": np.arange(8.0),
                              "y": np.arange(8.0)},
                      attrs={"forecast_seed": 1})


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_regions_flags_and_attrs_round_trip(tmp_path, suffix):
    path = tmp_path / f"s{suffix}"
    assert create_sample_store(path, _template()) is False
    assert completed_samples(path).tolist() == [False] * 3
    values = np.random.default_rng(0).standard_normal((2, 2, 4, 8, 8)).astype(np.float32)
    mark_completed(path, write_sample_region(path, {"vorticity": values}, 1))
    update_attrs(path, {"forecast_seconds_per_frame": 0.5})
    assert completed_samples(path).tolist() == [False, True, True]
    ds = open_trajectories(path, validate=False)
    np.testing.assert_array_equal(ds.vorticity.values[1:], values)
    assert np.isnan(ds.vorticity.values[0]).all()
    assert ds.attrs["forecast_seconds_per_frame"] == 0.5 and ds.attrs["forecast_seed"] == 1
    if suffix == ".zarr":   # consolidated metadata was refreshed for plain readers
        assert xr.open_zarr(path).attrs["forecast_seconds_per_frame"] == 0.5
    assert create_sample_store(path, _template(), match_attrs=["forecast_seed"]) is True


def test_mismatches_and_foreign_inputs_are_refused(tmp_path):
    path = tmp_path / "s.zarr"
    create_sample_store(path, _template())
    other = _template()
    other.attrs["forecast_seed"] = 2
    with pytest.raises(StoreError, match=r"forecast_seed \(1 vs 2\)"):
        create_sample_store(path, other, match_attrs=["forecast_seed"])
    with pytest.raises(StoreError, match="variable vorticity"):
        create_sample_store(path, _template(members=3))
    whole = tmp_path / "whole.zarr"
    save_dataset(_template().compute(), whole)
    with pytest.raises(StoreError, match="not a resumable store"):
        create_sample_store(whole, _template())
    with pytest.raises(DataError, match="'sample' first"):
        create_sample_store(tmp_path / "t.zarr", _template().transpose("member", ...))
    with pytest.raises(DataError, match="same number of samples"):
        write_sample_region(path, {"vorticity": np.zeros((1, 2, 4, 8, 8)),
                                   "other": np.zeros((2, 1))}, 0)
