"""Outputs never destroy inputs: is, inside or containing an input, through links too."""

import pytest

from rollflow.errors import StoreError
from rollflow.store import check_not_input


def test_output_related_to_an_input_is_refused(tmp_path):
    data = tmp_path / "data" / "truth.zarr"
    (data / "vorticity").mkdir(parents=True)
    link = tmp_path / "alias.zarr"
    link.symlink_to(data)
    for output, relation in [(data, "is"), (link, "is"), (data / "vorticity", "lies inside"),
                             (tmp_path / "data", "contains"),
                             (tmp_path / "data" / ".." / "data" / "truth.zarr", "is")]:
        with pytest.raises(StoreError, match=f"{relation} the input") as err:
            check_not_input(output, [None, "kf32-rolling", data])
        assert "--overwrite" not in str(err.value) and "\n" not in str(err.value)
    check_not_input(tmp_path / "data" / "forecast.zarr", [data])       # a sibling is fine
    check_not_input(tmp_path / "new.zarr", ["kf32-rolling"])           # names are not paths
