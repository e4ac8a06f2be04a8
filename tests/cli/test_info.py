import re

import numpy as np
import pytest

from rollflow.cli import main
from rollflow.generate import generate_store
from rollflow.specs import FlowSpec
from rollflow.store import create_store, save_dataset, trajectories_to_dataset, write_samples


def _shear_store(path):
    """ω = A_t cos(4y) with A_t alternating 3, 5: KE = A²/64, Z = A²/4 exactly."""
    spec = FlowSpec(simulation_size=32, output_size=16, num_frames=6, num_samples=2,
                    warmup_time=0.0)
    y = np.arange(16) * (2 * np.pi / 16)
    amplitude = np.where(np.arange(6) % 2 == 0, 3.0, 5.0)
    frame = amplitude[:, None, None] * np.cos(4 * y)[None, None, :] * np.ones((1, 16, 1))
    save_dataset(trajectories_to_dataset(np.stack([frame, frame]), spec, attrs={"command": "c"}),
                 path)
    return spec


def _number(text, label, what):
    line = next(l for l in text.splitlines() if l.startswith(label))
    pattern = r"^\S+(?: \S+)?\s+([-\d.e+]+)" if what == "mean" else r"std over time ([-\d.e+]+)"
    return float(re.search(pattern, line).group(1))


@pytest.mark.parametrize("name", ["shear.zarr", "shear.nc"])
def test_info_reports_spec_and_exact_statistics(tmp_path, capsys, name):
    spec = _shear_store(tmp_path / name)
    assert main(["info", str(tmp_path / name)]) == 0
    out = capsys.readouterr().out
    assert "Re = 1000 (ν = 0.001)" in out and "DNS 32² → saved 16²" in out
    assert f"solver dt = {spec.time_step:.6g} t.u. ({spec.steps_per_frame} steps" in out
    assert "2 of 2 complete (seed 0)" in out and "6 per sample (1 t.u.)" in out
    assert _number(out, "kinetic energy", "mean") == pytest.approx(17 / 64, rel=1e-3)
    assert _number(out, "kinetic energy", "std") == pytest.approx(8 / 64, rel=1e-3)
    assert _number(out, "enstrophy", "mean") == pytest.approx(17 / 4, rel=1e-3)
    assert _number(out, "enstrophy", "std") == pytest.approx(2.0, rel=1e-3)


def test_info_on_an_unfinished_store_uses_complete_samples(tmp_path, capsys, tiny_spec):
    path = tmp_path / "run.zarr"
    create_store(path, tiny_spec)
    write_samples(path, np.ones((2, 70, 8, 8), np.float32), 2)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 of 5 complete" in out and "time mean over 2 samples × 70 frames" in out
    assert _number(out, "enstrophy", "mean") == pytest.approx(0.5)


def test_info_one_line_errors(tmp_path, capsys, tiny_spec):
    (tmp_path / "plain").mkdir()
    (tmp_path / "junk.nc").write_text("junk")
    for path, message in ((tmp_path / "absent.zarr", "no such store"),
                          (tmp_path / "plain", "not a zarr store"),
                          (tmp_path / "junk.nc", "not a readable netCDF4 file")):
        code = main(["info", str(path)])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        assert err.startswith("rollflow info: error: ") and message in err


def test_info_names_the_stored_dtype(tmp_path, capsys):
    """Bug (issue 15): `info` called float16 and float64 stores "float32"."""
    spec = FlowSpec(simulation_size=32, output_size=16, num_frames=4, num_samples=1,
                    warmup_time=0.0)
    values = np.random.default_rng(0).standard_normal((1, 4, 16, 16))
    for dtype in ("float64", "float16"):
        ds = trajectories_to_dataset(values, spec)
        ds["vorticity"] = ds.vorticity.astype(dtype)
        save_dataset(ds, tmp_path / f"{dtype}.zarr")
        assert main(["info", str(tmp_path / f"{dtype}.zarr")]) == 0
        assert f"{dtype} vorticity" in capsys.readouterr().out


@pytest.fixture(scope="module")
def solver_stores(tmp_path_factory):
    """Two Re = 1000 trajectories (32², 10 t.u. warm-up, 5 t.u.), and copies that are
    negated, mirrored in x, or made with ν = 2e-3 but labelled ν = 1e-3."""
    import dataclasses

    from rollflow.solver import simulate

    root = tmp_path_factory.mktemp("physics")
    spec = FlowSpec(simulation_size=32, output_size=32, save_interval=0.2, warmup_time=10.0,
                    num_frames=26, num_samples=2)
    frames = simulate(spec, [0, 1])
    variants = {"solver": frames, "negated": -frames,
                "mirrored": frames[..., np.r_[0, np.arange(31, 0, -1)], :],
                "other_viscosity": simulate(dataclasses.replace(spec, viscosity=2e-3), [0, 1])}
    y = np.arange(32) * (2 * np.pi / 32)            # the exact steady (laminar) state:
    laminar = -4 * np.cos(4 * y) / (spec.viscosity * 16 + spec.drag)   # ω = −k U cos(ky)
    variants["laminar"] = np.broadcast_to(laminar, frames.shape).astype(np.float32)
    for name, values in variants.items():
        save_dataset(trajectories_to_dataset(values, spec, attrs={"command": "c"}),
                     root / f"{name}.zarr")
    generate_store(spec, root / "generated.zarr", batch_size=2, progress=False)
    return root


def _physics_line(path, capsys) -> str:
    assert main(["info", str(path)]) == 0
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("physics check")]
    assert len(lines) == 1
    return lines[0]


def test_checks_recorded_at_write_time_are_those_of_the_frames(solver_stores, capsys):
    """`generate_store` records the checks of the frames it writes (the same samples as
    solver.zarr): info reads them instead of recomputing, and prints the same numbers."""
    computed = _physics_line(solver_stores / "solver.zarr", capsys)
    recorded = _physics_line(solver_stores / "generated.zarr", capsys)
    assert "ok (recorded at write time)" in recorded
    assert recorded.split(" — ")[1] == computed.split(" — ")[1]


def test_the_reference_envelope_catches_what_the_budget_cannot(solver_stores, capsys,
                                                                monkeypatch):
    """The laminar state obeys the budget exactly and has no eddies, and identical samples
    are no outliers among themselves: only a reference envelope of the flow (here one made
    from solver.zarr's turbulent samples) says its KE (1/(4(16ν + α)²) ≈ 18.6) is not KF's."""
    from rollflow.analysis import envelope as envelopes
    from rollflow.store import open_trajectories, read_spec

    assert "ok (computed" in _physics_line(solver_stores / "laminar.zarr", capsys)
    spec = read_spec(solver_stores / "solver.zarr")
    with open_trajectories(solver_stores / "solver.zarr") as ds:
        reference = {"name": "SELF", **envelopes.envelope_of(ds.vorticity, spec)}
    monkeypatch.setattr(envelopes, "reference_envelope", lambda spec_: reference)
    assert "inside the SELF reference envelope" in _physics_line(
        solver_stores / "solver.zarr", capsys)
    assert ("FAILED in 2 of 2 samples — sample 0: kinetic energy 18.6 outside SELF's"
            in _physics_line(solver_stores / "laminar.zarr", capsys))


@pytest.mark.parametrize("name, reason", [
    ("solver", None), ("negated", "energy injection ⟨u·F⟩ = -"),
    ("mirrored", "eddy momentum flux +"), ("other_viscosity", "energy budget off by -")])
def test_info_checks_the_physics_a_store_claims(solver_stores, capsys, name, reason):
    assert main(["info", str(solver_stores / f"{name}.zarr")]) == 0
    line = [l for l in capsys.readouterr().out.splitlines() if l.startswith("physics check")]
    assert len(line) == 1
    if reason is None:
        assert "ok (computed from the frames) — energy budget residual" in line[0]
    else:
        assert "FAILED in 2 of 2 samples — sample 0: " + reason in line[0]
    if name == "other_viscosity":
        # labelled ν 1e-3 below the true 2e-3: the budget misses 2·1e-3·Z of dissipation,
        # with Z ≈ 10 and injection ≈ 0.2 that is r ≈ −10 % (Z and P vary by sample)
        residual = float(line[0].split("energy budget off by ")[1].split("%")[0])
        assert -15 < residual < -5
