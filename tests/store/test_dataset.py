import math

import numpy as np
import pytest

from rollflow.conventions import (
    FORMAT_ATTR, FORMAT_NAME, FORMAT_VERSION, GRID_ATTR, GRID_NODES, TRAJECTORY_DIMS, VORTICITY,
)
from rollflow.errors import DataError, StoreError
from rollflow.specs import FlowSpec
from rollflow.store import trajectories_to_dataset


def _field(spec, num):
    rng = np.random.default_rng(0)
    return rng.standard_normal((num, spec.num_frames, spec.output_size, spec.output_size))


def test_layout_coords_and_units(tiny_spec):
    ds = trajectories_to_dataset(_field(tiny_spec, 2), tiny_spec, sample_start=3)
    var = ds[VORTICITY]
    assert var.dims == TRAJECTORY_DIMS and var.dtype == np.float32
    assert var.attrs["units"] == "1/t.u." and var.attrs["long_name"] == "vorticity"
    np.testing.assert_array_equal(ds.sample.values, [3, 4])
    assert ds.sample.dtype == np.int64
    np.testing.assert_array_equal(ds.time.values, np.arange(70) * 0.2)
    assert ds.time.dtype == np.float64 and ds.time.attrs["units"] == "t.u."
    assert ds.time.attrs["axis"] == "T"
    for dim, axis in (("x", "X"), ("y", "Y")):
        np.testing.assert_array_equal(ds[dim].values, np.arange(8) * (2 * math.pi / 8))
        assert ds[dim].attrs["axis"] == axis and ds[dim].attrs["units"] == "1"


def test_attrs_rebuild_spec_and_carry_provenance(tiny_spec):
    ds = trajectories_to_dataset(_field(tiny_spec, 1), tiny_spec, attrs={"command": "test run"})
    assert FlowSpec.from_attrs(ds.attrs) == tiny_spec
    assert ds.attrs[FORMAT_ATTR] == FORMAT_NAME
    assert ds.attrs["rollflow_format_version"] == FORMAT_VERSION
    assert ds.attrs[GRID_ATTR] == GRID_NODES and ds.attrs["Conventions"] == "CF-1.10"
    assert ds.attrs["seed"] == 3 and ds.attrs["command"] == "test run"
    assert ds.attrs["solver_time_step"] == tiny_spec.time_step
    assert ds.attrs["solver_steps_per_frame"] == tiny_spec.steps_per_frame
    assert ds.attrs["version_numpy"] == np.__version__
    assert "version_rollflow" in ds.attrs and ds.attrs["created"].endswith("Z")
    assert all(isinstance(v, (str, int, float)) for v in ds.attrs.values())


def test_extra_attrs_may_set_created_but_not_the_spec(tiny_spec):
    field = _field(tiny_spec, 1)
    ds = trajectories_to_dataset(field, tiny_spec, attrs={"created": "2026-01-01T00:00:00Z"})
    assert ds.attrs["created"] == "2026-01-01T00:00:00Z"
    with pytest.raises(StoreError, match="flow_viscosity.*reserved"):
        trajectories_to_dataset(field, tiny_spec, attrs={"flow_viscosity": 1.0})
    with pytest.raises(StoreError, match="must be a str, int or float"):
        trajectories_to_dataset(field, tiny_spec, attrs={"flag": True})


@pytest.mark.parametrize("shape", [(1, 70, 8, 9), (1, 69, 8, 8), (70, 8, 8)])
def test_wrong_shape_is_refused(tiny_spec, shape):
    with pytest.raises(DataError, match="shape"):
        trajectories_to_dataset(np.zeros(shape), tiny_spec)


def test_samples_outside_the_spec_are_refused(tiny_spec):
    with pytest.raises(DataError, match="outside 0…4"):
        trajectories_to_dataset(_field(tiny_spec, 2), tiny_spec, sample_start=4)


def test_the_source_attr_names_the_backend():
    """Bug (issue 18): exponax stores said "rollflow spectral DNS (jax-cfd)"."""
    from rollflow.store import dataset_attrs

    spec = FlowSpec(simulation_size=32, output_size=16)
    assert "(jax-cfd)" in dataset_attrs(spec)["source"]
    assert "(exponax)" in dataset_attrs(spec.replace(backend="exponax"))["source"]
