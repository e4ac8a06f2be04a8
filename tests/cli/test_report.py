"""`rollflow report`: a page from score stores written by `rollflow evaluate --out`; bad
input in one line."""

import numpy as np

from rollflow.cli import main
from rollflow.specs import FlowSpec
from rollflow.store import save_dataset, trajectories_to_dataset


def _scored(tmp_path):
    """A truth store, persistence and a noisy 3-member forecast of it, both evaluated."""
    from rollflow.baselines import persistence_forecast

    spec = FlowSpec(simulation_size=32, output_size=16, num_frames=12, num_samples=3,
                    warmup_time=0.4, save_interval=0.2, seed=3)
    values = np.random.default_rng(0).standard_normal((3, 12, 16, 16)).astype(np.float32)
    truth = trajectories_to_dataset(values, spec)
    save_dataset(truth, tmp_path / "truth.zarr")
    persistence = persistence_forecast(truth.vorticity, init_index=1, num_frames=10,
                                       save_interval=0.2, source_attrs=truth.attrs)
    save_dataset(persistence, tmp_path / "persistence.zarr")
    noisy = persistence.copy()
    future = truth.vorticity.isel(time=slice(2, 12)).values[:, None]
    rng = np.random.default_rng(1)
    noisy = noisy.isel(member=[0, 0, 0]).assign_coords(member=[0, 1, 2])
    noisy["vorticity"] = (noisy.vorticity.dims,
                          (future + 0.3 * rng.standard_normal((3, 3, 10, 16, 16))).astype(
                              np.float32))
    noisy.attrs.update(forecast_mode="rolling", forecast_num_members=3,
                       forecast_seconds_per_time_unit=0.02)
    save_dataset(noisy, tmp_path / "model.zarr")
    for name in ("persistence", "model"):
        assert main(["evaluate", str(tmp_path / f"{name}.zarr"), "--truth",
                     str(tmp_path / "truth.zarr"), "--out", str(tmp_path / f"{name}.nc")]) == 0


def test_report_writes_the_page_and_its_figures(tmp_path, capsys):
    _scored(tmp_path)
    assert main(["report", str(tmp_path / "model.nc"), str(tmp_path / "persistence.nc"),
                 "--out", str(tmp_path / "page")]) == 0
    page = (tmp_path / "page" / "report.md").read_text()
    assert "| model | 3 |" in page and "| persistence | 1 |" in page
    assert "## Scorecard against model" in page
    assert "| persistence − model |" not in page       # persistence is a reference, not paired
    for name in ("lead_time", "scorecard", "pareto"):
        assert (tmp_path / "page" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_report_bad_input_is_one_line(tmp_path, capsys):
    _scored(tmp_path)
    capsys.readouterr()                                    # evaluate's progress bars
    cases = [([], "no scores to report"),
             ([str(tmp_path / "truth.zarr")], "is not a score store"),
             ([str(tmp_path / "model.nc"), "--baseline", "absent"], "baseline 'absent'"),
             ([str(tmp_path / "model.nc"), "--pair", "model", "other"], "'other' is not")]
    for extra, message in cases:
        code = main(["report", *extra, "--out", str(tmp_path / "x")])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and message in err, err
