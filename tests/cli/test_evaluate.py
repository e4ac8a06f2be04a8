"""`rollflow evaluate` refuses a truth of other physics with one line naming the fields."""

import numpy as np

from rollflow.cli import main
from rollflow.baselines import persistence_forecast
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
    # Bug (issue 15): same physics but another flow (seed, DNS grid, warm-up) was scored
    # without a word; a forecast is scored only against the truth it started from
    fc.attrs.update(base.replace(simulation_size=64, seed=5, warmup_time=2.0).to_attrs())
    save_dataset(fc, tmp_path / "fc2.zarr")
    code = main(["evaluate", str(tmp_path / "fc2.zarr"), "--truth", str(tmp_path / "truth.zarr")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "not the truth" in err[0]
    for field in ("simulation_size 64 vs 32", "seed 5 vs 0", "warmup_time 2.0 vs 40.0"):
        assert field in err[0]
    fc.attrs.update(base.replace(num_frames=30, num_samples=5).to_attrs())  # a longer run
    save_dataset(fc, tmp_path / "fc3.zarr")
    assert main(["evaluate", str(tmp_path / "fc3.zarr"), "--truth",
                 str(tmp_path / "truth.zarr")]) == 0


def test_forecast_values_and_variables_are_checked(tmp_path, capsys):
    """Bugs (issue 15): an int16 forecast was scored silently; a store without a
    `vorticity` variable gave a 33-line KeyError traceback."""
    base = FlowSpec(simulation_size=32, output_size=16, num_frames=8, num_samples=2)
    truth = _store(tmp_path / "truth.zarr", base)
    fc = persistence_forecast(truth.vorticity, init_index=1, num_frames=4, save_interval=0.2)
    fc.attrs.update(base.to_attrs())
    save_dataset(fc.astype("int16"), tmp_path / "int.zarr")
    save_dataset(fc.rename(vorticity="omega"), tmp_path / "omega.zarr")
    for name, message in (("int.zarr", "vorticity is int16"),
                          ("omega.zarr", "has no 'vorticity' variable (it has omega)")):
        code = main(["evaluate", str(tmp_path / name), "--truth", str(tmp_path / "truth.zarr")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and message in err[0], err


# --- evaluation larger than a memory cap --------------------------------------------

_CAPPED = r'''
import resource, sys
from rollflow.cli import main
from rollflow.store import open_trajectories
small, big, truth, headroom, what = sys.argv[1:6]
assert main(["evaluate", small, "--truth", truth]) == 0  # warm-up: imports, thread pools
size = next(int(line.split()[1]) for line in open("/proc/self/status")
            if line.startswith("VmSize")) * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + int(headroom), resource.RLIM_INFINITY))
if what == "load":  # the small store loads under the cap, the big one does not
    open_trajectories(small, validate=False)["vorticity"].load()
    try:
        open_trajectories(big, validate=False)["vorticity"].load()
        print("LOADED")
    except (MemoryError, RuntimeError) as err:  # blosc reports a failed malloc as -1
        print("CANNOT LOAD", type(err).__name__)
else:
    print("EXIT", main(["evaluate", big, "--truth", truth, "--block-mb", "1"]))
'''


def _forecast_store(path, truth, num_samples, num_members, seed=1):
    """A (sample, member, time, x, y) store of truth + noise, written sample by sample."""
    import dask.array as da
    import xarray as xr

    from rollflow.store import create_sample_store, mark_completed, write_sample_region

    v = truth.vorticity.isel(sample=slice(0, num_samples), time=slice(2, None))
    shape = (num_samples, num_members, *v.shape[1:])
    lazy = da.full(shape, np.nan, np.float32, chunks=(1, 1, *v.shape[1:]))
    ds = xr.Dataset({"vorticity": (("sample", "member", "time", "x", "y"), lazy)},
                    coords={"sample": v.sample.values, "member": np.arange(num_members),
                            "time": v.time.values, "x": v.x, "y": v.y,
                            "lead_time": ("time", v.time.values - float(truth.time[1]))},
                    attrs={k: a for k, a in truth.attrs.items() if k.startswith("flow_")})
    create_sample_store(path, ds)
    rng = np.random.default_rng(seed)
    for s in range(num_samples):
        noise = rng.standard_normal((1, num_members, *v.shape[1:])).astype(np.float32)
        mark_completed(path, write_sample_region(
            path, {"vorticity": v.values[s][None, None] + noise}, s))
    return shape


def test_evaluation_larger_than_a_memory_cap_runs_lazily(tmp_path):
    """A 96 MiB forecast evaluates (1 MiB blocks) under a cap of 48 MiB above the warmed-up
    process, while loading it under the same cap fails (so the cap binds). The cap is half
    the forecast (load needs ≥ 2× the cap), and the rest is the evaluation's own overhead
    (float64 copies of a block, bootstrap tables, glibc arenas): with 32 MiB of 64 the
    evaluation failed once in four runs on a 2-core box (a 2 MiB allocation refused)."""
    import os
    import subprocess
    import sys

    spec = FlowSpec(simulation_size=32, output_size=32, num_frames=66, num_samples=96,
                    warmup_time=0.4, save_interval=0.2, seed=3)
    values = np.random.default_rng(0).standard_normal((96, 66, 32, 32)).astype(np.float32)
    truth = trajectories_to_dataset(values, spec)
    save_dataset(truth, tmp_path / "truth.zarr")
    shape = _forecast_store(tmp_path / "big.zarr", truth, 96, 4)
    _forecast_store(tmp_path / "small.zarr", truth, 1, 4)
    size, headroom = int(np.prod(shape)) * 4, 48 * 2**20
    assert size >= 2 * headroom
    (tmp_path / "capped.py").write_text(_CAPPED)
    env = dict(os.environ, MALLOC_ARENA_MAX="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")

    def capped(what):
        out = subprocess.run([sys.executable, str(tmp_path / "capped.py"),
                              *(str(tmp_path / f) for f in ("small.zarr", "big.zarr",
                                                            "truth.zarr")),
                              str(headroom), what], capture_output=True, text=True, env=env,
                             timeout=600)
        return out.stdout + out.stderr

    assert "CANNOT LOAD" in capped("load")
    result = capped("evaluate")
    assert "EXIT 0" in result, result[-2000:]
    assert "members: 4, samples: 96, lead times: 64" in result


def test_unfinished_forecast_is_refused_in_one_line(tmp_path, capsys):
    from rollflow.store import create_sample_store

    spec = FlowSpec(simulation_size=32, output_size=16, num_frames=8, num_samples=2)
    truth = _store(tmp_path / "truth.zarr", spec)
    fc = persistence_forecast(truth.vorticity, init_index=1, num_frames=4, save_interval=0.2)
    fc.attrs.update(spec.to_attrs())
    create_sample_store(tmp_path / "fc.zarr", fc.chunk())
    code = main(["evaluate", str(tmp_path / "fc.zarr"), "--truth", str(tmp_path / "truth.zarr")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "unfinished (0 of 2 samples written)" in err[0] and "again" in err[0]


def test_score_sums_open_in_plain_xarray_and_agree_with_the_scores(tmp_path):
    """Issue 16: `--sums` writes (metric, lead_time) sums and counts that a notebook opens
    with xr.open_dataset; the RMSE they give equals the --out scores' (the same squared
    errors, averaged in another order: relative ~1e-15, bound 1e-10), and two halves'
    sums merge to the whole (the same float64 sums re-associated)."""
    import xarray as xr

    from rollflow.analysis.score_sums import merge_score_sums, scores_from_sums

    spec = FlowSpec(simulation_size=32, output_size=16, num_frames=10, num_samples=4,
                    warmup_time=0.4, save_interval=0.2, seed=3)
    truth = _store(tmp_path / "truth.zarr", spec)
    _forecast_store(tmp_path / "f.zarr", truth, 4, 3)
    common = ["evaluate", str(tmp_path / "f.zarr"), "--truth", str(tmp_path / "truth.zarr")]
    assert main([*common, "--out", str(tmp_path / "s.nc"), "--sums",
                 str(tmp_path / "sums.nc")]) == 0
    assert main([*common, "--sums", str(tmp_path / "half.nc"), "--block-mb", "0.01"]) == 0
    with xr.open_dataset(tmp_path / "sums.nc") as sums, xr.open_dataset(tmp_path / "s.nc") as s, \
            xr.open_dataset(tmp_path / "half.nc") as blocks:
        assert sums["sum"].dims == ("metric", "lead_time") and sums.attrs["grid_size"] == 16
        assert "energy_score" in sums.metric.values and "crps_spread" in sums.metric.values
        from_sums = scores_from_sums(sums)
        np.testing.assert_allclose(from_sums.rmse.values, s.rmse.values, rtol=1e-10)
        np.testing.assert_allclose(scores_from_sums(merge_score_sums([blocks])).rmse.values,
                                   from_sums.rmse.values, rtol=1e-10)
