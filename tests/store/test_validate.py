import numpy as np
import pytest

from rollflow.conventions import FORMAT_ATTR, VORTICITY
from rollflow.errors import StoreError
from rollflow.store import COMPLETED, trajectories_to_dataset, validate_dataset


@pytest.fixture
def dataset(tiny_spec):
    n = tiny_spec.output_size
    field = np.random.default_rng(0).standard_normal((5, 70, n, n))
    return trajectories_to_dataset(field, tiny_spec)


def test_valid_dataset_and_subsets_return_the_spec(dataset, tiny_spec):
    assert validate_dataset(dataset) == tiny_spec
    assert validate_dataset(dataset.isel(sample=[1, 3], time=slice(10, 20))) == tiny_spec


@pytest.mark.parametrize("mutate, message", [
    (lambda ds: ds.drop_attrs(deep=False), "not a rollflow store"),
    (lambda ds: ds.assign_attrs({FORMAT_ATTR: "other"}), "not a rollflow store"),
    (lambda ds: ds.assign_attrs(rollflow_format_version=99), "reads versions ≤ 1"),
    (lambda ds: ds.assign_attrs(flow_output_size=16), "grid size differs from the spec"),
    (lambda ds: ds.assign_attrs(flow_viscosity=-1.0), "FlowSpec.viscosity must be > 0"),
    (lambda ds: ds.assign_attrs(grid_points="centres"), "grid_points"),
    (lambda ds: ds.rename_vars({VORTICITY: "omega"}), "no 'vorticity' variable"),
    (lambda ds: ds.transpose("sample", "time", "y", "x"), "wrong order"),
    (lambda ds: ds.isel(time=0), "expected \\('sample', 'time', 'x', 'y'\\)"),
    (lambda ds: ds.assign_coords(x=ds.x + 0.1), "coordinate 'x' does not match"),
    (lambda ds: ds.assign_coords(time=ds.time * 1.5), "multiples of save_interval"),
    (lambda ds: ds.assign_coords(sample=ds.sample + 1), "sample coordinates"),
    (lambda ds: ds.assign({VORTICITY: ds[VORTICITY].astype(np.int32)}), "dtype int32"),
], ids=["no-attrs", "other-format", "newer-version", "grid-size", "bad-spec", "centres",
        "no-var", "dim-order", "missing-dim", "x-coords", "time-coords", "sample-range",
        "int-dtype"])
def test_invalid_datasets_are_explained(dataset, mutate, message):
    with pytest.raises(StoreError, match=message):
        validate_dataset(mutate(dataset))


def test_incomplete_flag(dataset):
    flagged = dataset.assign({COMPLETED: ("sample", np.array([1, 1, 0, 1, 0], np.int8))})
    with pytest.raises(StoreError, match="incomplete: 3 of 5 samples are written"):
        validate_dataset(flagged)
    assert validate_dataset(flagged, require_complete=False).num_samples == 5
    assert validate_dataset(flagged.assign({COMPLETED: flagged[COMPLETED] * 0 + 1})).seed == 3


def test_edited_attrs_are_checked_against_the_arrays(tmp_path, tiny_spec, capsys):
    """Bug: with flow_num_frames edited 70 → 75, `info` reported 75 frames, `simulate`
    with a 75-frame config called the store complete and `open_trajectories` opened 70."""
    import numpy as np
    import zarr

    from rollflow.cli import main
    from rollflow.errors import StoreError
    from rollflow.store import open_trajectories, read_spec, save_dataset, trajectories_to_dataset

    path = tmp_path / "edited.zarr"
    values = np.zeros((tiny_spec.num_samples, tiny_spec.num_frames, 8, 8), np.float32)
    save_dataset(trajectories_to_dataset(values, tiny_spec), path)
    group = zarr.open_group(str(path), mode="r+", zarr_format=3)
    group.attrs["flow_num_frames"] = tiny_spec.num_frames + 5
    for call in (lambda: open_trajectories(path), lambda: read_spec(path)):
        with pytest.raises(StoreError, match=r"flow_num_frames = 75 but the arrays hold 70"):
            call()
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "edited attrs" in err[0]
