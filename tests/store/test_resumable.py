import numpy as np
import pytest
import xarray as xr

from rollflow.conventions import VORTICITY
from rollflow.errors import DataError, StoreError
from rollflow.store import (
    completed_samples, create_store, open_trajectories, read_spec, save_dataset,
    trajectories_to_dataset, write_samples,
)

FORMATS = ["run.zarr", "run.nc"]


def _batch(spec, start, stop):
    rng = np.random.default_rng(start)
    n = spec.output_size
    return rng.standard_normal((stop - start, spec.num_frames, n, n)).astype(np.float32)


@pytest.mark.parametrize("name", FORMATS)
def test_create_write_and_flag_samples(tmp_path, tiny_spec, name):
    path = tmp_path / name
    create_store(path, tiny_spec, attrs={"command": "c"})
    assert read_spec(path) == tiny_spec
    np.testing.assert_array_equal(completed_samples(path), [False] * 5)
    with pytest.raises(StoreError, match="incomplete: 0 of 5"):
        open_trajectories(path)
    first, last = _batch(tiny_spec, 1, 3), _batch(tiny_spec, 4, 5)
    write_samples(path, first, 1)
    write_samples(path, last, 4)
    np.testing.assert_array_equal(completed_samples(path), [False, True, True, False, True])
    with open_trajectories(path, allow_incomplete=True) as ds:
        assert "completed" not in ds.data_vars
        values = ds[VORTICITY].values
    np.testing.assert_array_equal(values[1:3], first)
    np.testing.assert_array_equal(values[4:], last)
    assert np.isnan(values[[0, 3]]).all()  # unwritten samples read as NaN


@pytest.mark.parametrize("name", FORMATS)
def test_finished_store_equals_one_written_whole(tmp_path, tiny_spec, name):
    data = _batch(tiny_spec, 0, 5)
    attrs = {"command": "c", "created": "2026-11-21T00:00:00Z"}
    create_store(tmp_path / name, tiny_spec, attrs=attrs)
    for start in (3, 0):
        stop = start + (2 if start == 3 else 3)
        write_samples(tmp_path / name, data[start:stop], start)
    whole = tmp_path / ("whole" + name[3:])
    save_dataset(trajectories_to_dataset(data, tiny_spec, attrs=attrs), whole)
    with open_trajectories(tmp_path / name) as a, open_trajectories(whole) as b:
        xr.testing.assert_identical(a.load(), b.load())
    assert completed_samples(whole).all()


@pytest.mark.parametrize("name", FORMATS)
def test_existing_store_is_kept_or_refused(tmp_path, tiny_spec, name):
    path = tmp_path / name
    create_store(path, tiny_spec, attrs={"created": "first"})
    write_samples(path, _batch(tiny_spec, 0, 2), 0)
    create_store(path, tiny_spec, attrs={"created": "second"})  # same spec: resume
    np.testing.assert_array_equal(completed_samples(path), [True, True, False, False, False])
    with open_trajectories(path, allow_incomplete=True) as ds:
        assert ds.attrs["created"] == "first"
    other = tiny_spec.replace(viscosity=2e-3, seed=4)
    with pytest.raises(StoreError, match=r"differs in flow_viscosity \(0\.001 vs 0\.002\), "
                                         r"flow_seed \(3 vs 4\).*use --overwrite"):
        create_store(path, other)
    create_store(path, other, overwrite=True)
    assert read_spec(path) == other and not completed_samples(path).any()


def test_foreign_or_unusable_paths(tmp_path, tiny_spec):
    (tmp_path / "plain").mkdir()
    with pytest.raises(StoreError, match="not a zarr store.*use --overwrite"):
        create_store(tmp_path / "plain", tiny_spec)
    with pytest.raises(StoreError, match="refusing to replace"):
        create_store(tmp_path / "plain", tiny_spec, overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot create"):
        create_store(tmp_path / "file" / "run.zarr", tiny_spec)


@pytest.mark.parametrize("name", FORMATS)
def test_bad_batches_are_refused(tmp_path, tiny_spec, name):
    path = tmp_path / name
    create_store(path, tiny_spec)
    with pytest.raises(DataError, match="shape"):
        write_samples(path, _batch(tiny_spec, 0, 2)[:, :-1], 0)
    with pytest.raises(DataError, match="outside the store's 0…4"):
        write_samples(path, _batch(tiny_spec, 0, 2), 4)
    bad = _batch(tiny_spec, 0, 1)
    bad[0, 5, 2, 2] = np.inf
    with pytest.raises(DataError, match="non-finite"):
        write_samples(path, bad, 0)
    assert not completed_samples(path).any()


def test_closing_an_opened_netcdf_store_releases_it_for_writing(tmp_path, tiny_spec):
    path = tmp_path / "run.nc"
    create_store(path, tiny_spec)
    with open_trajectories(path, allow_incomplete=True) as ds:
        assert np.isnan(ds[VORTICITY][0, 0].values).all()  # reads through the file
    write_samples(path, _batch(tiny_spec, 0, 1), 0)  # HDF5 refuses if still open for reading
    assert completed_samples(path)[0]
