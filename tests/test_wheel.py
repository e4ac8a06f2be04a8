"""The built wheel works outside the source tree (issue 17): installed into a fresh virtual
environment with the project's pinned dependencies, it lists the shipped models, shows the
demo's help and runs a tiny demo with the packaged config's model and its own small spec —
no `experiments/` folder, no source checkout on the path."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TINY_DEMO = """
[test]
simulation_size = 64
output_size = 32
warmup_time = 1.0
num_frames = 8
num_samples = 1
seed = 7

[forecast]
model = "kf32-rolling"
members = 2
frames = 3
batch_size = 1

[solvers]
resolutions = [32]
"""


def _run(argv, cwd, **kw):
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=1800, **kw)
    assert result.returncode == 0, (argv, result.stdout[-2000:], result.stderr[-3000:])
    return result


@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    source, wheels = tmp_path / "source", tmp_path / "dist"
    files = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                 cwd=ROOT).stdout.split()
    for name in files:                          # a copy: the build never writes into ROOT
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((ROOT / name).read_bytes())
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "-w", str(wheels), str(source)], cwd=tmp_path)
    wheel = next(wheels.glob("rollflow-*.whl"))
    _run([sys.executable, "-m", "venv", str(tmp_path / "venv")], cwd=tmp_path)
    pip = [str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet",
           "--disable-pip-version-check"]
    _run(pip + ["torch==2.13.0"], cwd=tmp_path)                 # the CPU build, first
    _run(pip + ["-c", str(ROOT / "constraints.txt"), f"{wheel}[all]"], cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    rollflow = str(tmp_path / "venv" / "bin" / "rollflow")
    models = _run([rollflow, "models"], cwd=tmp_path, env=env).stdout
    assert "kf32-rolling" in models
    assert "rollflow/configs/demo.toml" in _run([rollflow, "demo", "--help"], cwd=tmp_path,
                                                env=env).stdout
    where = _run([str(tmp_path / "venv" / "bin" / "python"), "-c",
                  "import rollflow; print(rollflow.__file__)"], cwd=tmp_path, env=env).stdout
    assert str(tmp_path / "venv") in where                       # not the source tree
    (tmp_path / "tiny.toml").write_text(TINY_DEMO)
    out = _run([rollflow, "demo", "--config", "tiny.toml", "--out", "demo"], cwd=tmp_path,
               env=env).stdout
    assert "T0.8 ensemble mean" in out and (tmp_path / "demo" / "forecast.zarr").exists()
