"""`rollflow baseline`: solver forecasts in the forecast layout, scored by `evaluate`."""

import numpy as np
import pytest

from rollflow.cli import main
from rollflow.cli.baseline import output_paths
from rollflow.errors import DataError
from rollflow.store import open_trajectories

TINY = """
[flow]
simulation_size = 32
output_size = 16
warmup_time = 2.0
num_frames = 12
num_samples = 2
seed = 4
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("baseline")
    (root / "tiny.toml").write_text(TINY)
    path = root / "truth.zarr"
    assert main(["simulate", str(root / "tiny.toml"), "--out", str(path), "--quiet"]) == 0
    return path


def _one_line_error(capsys, code):
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("rollflow baseline: error: ") and err.count("\n") == 1, err
    return err


def test_baseline_writes_one_forecast_store_per_resolution(store, tmp_path, capsys):
    out = tmp_path / "solver_{R}.zarr"
    code = main(["baseline", str(store), "--resolution", "16", "32", "--out", str(out),
                 "--frames", "5", "--init-index", "2", "--samples", "1"])
    assert code == 0
    truth = open_trajectories(store).vorticity
    for size in (16, 32):
        fc = open_trajectories(tmp_path / f"solver_{size}.zarr", validate=False)
        v = fc.vorticity
        assert v.dims == ("sample", "member", "time", "x", "y") and v.shape == (1, 1, 5, 16, 16)
        assert fc.attrs["forecast_mode"] == "solver"
        assert fc.attrs["forecast_simulation_size"] == size
        assert fc.attrs["forecast_seconds_per_time_unit"] > 0
        np.testing.assert_allclose(fc.lead_time.values, 0.2 * np.arange(1, 6), atol=1e-9)
        np.testing.assert_allclose(fc.time.values, truth.time.values[3:8], atol=1e-9)
        assert fc.sample.values.tolist() == [1] and np.isfinite(v.values).all()
    coarse, fine = (open_trajectories(tmp_path / f"solver_{s}.zarr", validate=False).vorticity
                    for s in (16, 32))
    assert float(np.abs(coarse - fine).max()) > 1e-3      # the grid matters
    assert "wrote" in capsys.readouterr().out
    code = main(["evaluate", str(tmp_path / "solver_32.zarr"), "--truth", str(store)])
    assert code == 0 and "decorrelation" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--resolution", "16", "32"], "several resolutions need {R}"),
    (["--resolution", "12"], "must be even and ≥ the store's grid 16"),
    (["--resolution", "16", "--samples", "5"], "has no sample(s) [5]"),
    (["--resolution", "16", "--init-index", "40"], "past the store's last frame (11)"),
])
def test_bad_input_is_one_line(store, tmp_path, capsys, args, message):
    code = main(["baseline", str(store), "--out", str(tmp_path / "x.zarr"), *args])
    assert message in _one_line_error(capsys, code)


def test_output_paths():
    assert output_paths("a/s_{R}.nc", [32, 64]) == ["a/s_32.nc", "a/s_64.nc"]
    assert output_paths("a.zarr", [32]) == ["a.zarr"]
    with pytest.raises(DataError, match="twice"):
        output_paths("a_{R}.zarr", [32, 32])


def test_the_baseline_runs_either_backend(store, tmp_path, capsys):
    """The solver line can be drawn with exponax too: same states, the backend recorded,
    the two solvers' first frames close (ρ > 0.99 after 0.2 t.u. at 32²) but not equal."""
    pytest.importorskip("exponax")
    for backend in ("jaxcfd", "exponax"):
        assert main(["baseline", str(store), "--resolution", "32", "--frames", "2",
                     "--init-index", "2", "--backend", backend,
                     "--out", str(tmp_path / f"{backend}.zarr")]) == 0
        assert f"wrote {tmp_path / f'{backend}.zarr'}: {backend} 32²" in capsys.readouterr().out
    runs = {b: open_trajectories(tmp_path / f"{b}.zarr", validate=False) for b in
            ("jaxcfd", "exponax")}
    assert [runs[b].attrs["forecast_solver_backend"] for b in runs] == ["jaxcfd", "exponax"]
    a, b = (runs[k].vorticity.isel(member=0, time=0).values for k in runs)
    a, b = a - a.mean(axis=(-2, -1), keepdims=True), b - b.mean(axis=(-2, -1), keepdims=True)
    rho = (a * b).sum((-2, -1)) / np.sqrt((a * a).sum((-2, -1)) * (b * b).sum((-2, -1)))
    assert (rho > 0.99).all() and np.abs(a - b).max() > 1e-4
