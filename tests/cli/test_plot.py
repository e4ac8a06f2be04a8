"""`rollflow plot`: every kind renders a PNG from real (tiny, synthetic) stores."""

import numpy as np
import pytest
import xarray as xr

from rollflow.cli import main

pytest.importorskip("zarr")
store = pytest.importorskip("rollflow.store")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
N = 16


def _coords(samples=3, times=6):
    nodes = np.arange(N) * 2 * np.pi / N
    return {"sample": np.arange(samples), "time": np.arange(times) * 0.2, "x": nodes, "y": nodes}


@pytest.fixture
def stores(tmp_path):
    rng = np.random.default_rng(0)
    truth = rng.standard_normal((3, 6, N, N)).astype(np.float32)
    truth_ds = xr.Dataset({"vorticity": (("sample", "time", "x", "y"), truth)},
                          coords=_coords())
    members = truth[:, None] + 0.3 * np.arange(1, 5)[None, :, None, None, None] * \
        rng.standard_normal((3, 4, 6, N, N)).astype(np.float32)
    forecast_ds = xr.Dataset(
        {"vorticity": (("sample", "member", "time", "x", "y"), members.astype(np.float32))},
        coords=_coords()).isel(time=slice(1, None))
    forecast_ds = forecast_ds.assign_coords(lead_time=("time", forecast_ds.time.values - 0.2))
    truth_path, forecast_path = tmp_path / "truth.zarr", tmp_path / "forecast.zarr"
    store.save_dataset(truth_ds, truth_path)
    store.save_dataset(forecast_ds, forecast_path)
    return truth_path, forecast_path


@pytest.mark.parametrize("kind, needs_truth", [
    ("spectrum", False), ("vorticity", False), ("vorticity", True), ("correlation", True),
    ("spread", True), ("separation", False)])
def test_every_kind_writes_a_png(stores, tmp_path, kind, needs_truth):
    truth_path, forecast_path = stores
    source = truth_path if kind == "spectrum" or (kind == "vorticity" and not needs_truth) \
        else forecast_path
    out = tmp_path / "figs" / f"{kind}.png"
    argv = ["plot", str(source), "--kind", kind, "--out", str(out), "--time", "0.4"]
    if needs_truth:
        argv += ["--truth", str(truth_path)]
    assert main(argv) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_user_errors_exit_2(stores, tmp_path, capsys):
    truth_path, forecast_path = stores
    out = str(tmp_path / "x.png")
    assert main(["plot", str(forecast_path), "--kind", "correlation", "--out", out]) == 2
    assert "needs --truth" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "missing.zarr"), "--kind", "spectrum",
                 "--out", out]) == 2
    assert main(["plot", str(truth_path), "--kind", "spectrum", "--out", out,
                 "--time-range", "5", "6"]) == 2
    assert "no times" in capsys.readouterr().err
