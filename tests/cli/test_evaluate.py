"""`rollflow evaluate` refuses a truth of other physics with one line naming the fields."""

import numpy as np

from rollflow.cli import main
from rollflow.reference import persistence_forecast
from rollflow.specs import FlowSpec
from rollflow.store import save_dataset, trajectories_to_dataset


def _store(path, spec, seed=0):
    values = np.random.default_rng(seed).standard_normal(
        (spec.num_samples, spec.num_frames, 16, 16)).astype(np.float32)
    ds = trajectories_to_dataset(values, spec)
    save_dataset(ds, path)
    return ds


def test_other_physics_is_refused(tmp_path, capsys):
    base = FlowSpec(simulation_size=32, output_size=16, num_frames=8, num_samples=2)
    truth = _store(tmp_path / "truth.zarr", base)
    fc = persistence_forecast(truth.vorticity, init_index=1, num_frames=4, save_interval=0.2)
    fc.attrs.update(base.replace(viscosity=0.1, warmup_time=2.0).to_attrs())
    save_dataset(fc, tmp_path / "fc.zarr")
    code = main(["evaluate", str(tmp_path / "fc.zarr"), "--truth", str(tmp_path / "truth.zarr")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "viscosity 0.1 vs 0.001" in err[0]
    fc.attrs.update(base.replace(simulation_size=64, seed=5).to_attrs())   # same physics
    save_dataset(fc, tmp_path / "fc2.zarr")
    assert main(["evaluate", str(tmp_path / "fc2.zarr"), "--truth",
                 str(tmp_path / "truth.zarr")]) == 0
