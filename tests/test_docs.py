"""Docs that are generated from code stay in sync with it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "cli_reference.py"),
                             "--check"], cwd=ROOT)
    assert result.returncode == 0, "docs/cli.md is stale: run scripts/cli_reference.py"


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in readme and "bash scripts/test.sh" in ci
    assert "bash scripts/demo.sh" in readme and (ROOT / "scripts" / "demo.sh").exists()


def _python_blocks(path: Path) -> list[str]:
    text = path.read_text()
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]


def test_python_snippets_in_readme_and_docs_run(tmp_path, monkeypatch, capsys):
    """Bug: the README's Python snippet used `forecast` and `truth` without defining them.
    Every ```python block of README.md and docs/*.md runs here, in a directory holding
    tiny versions of the demo's outputs (outputs/demo/test.zarr, forecast.zarr)."""
    import numpy as np

    from rollflow.reference import persistence_forecast
    from rollflow.specs import FlowSpec
    from rollflow.store import save_dataset, trajectories_to_dataset

    demo = tmp_path / "outputs" / "demo"
    spec = FlowSpec(simulation_size=32, output_size=16, num_frames=12, num_samples=2)
    values = np.random.default_rng(0).standard_normal((2, 12, 16, 16)).astype(np.float32)
    truth = trajectories_to_dataset(values, spec)
    save_dataset(truth, demo / "test.zarr")
    fc = persistence_forecast(truth.vorticity, init_index=1, num_frames=6, save_interval=0.2)
    save_dataset(fc, demo / "forecast.zarr")
    monkeypatch.chdir(tmp_path)
    sources = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    blocks = [(p.name, b) for p in sources for b in _python_blocks(p)]
    assert blocks, "no python blocks found"
    for name, block in blocks:
        exec(compile(block, f"{name} snippet", "exec"), {})
    assert "[" in capsys.readouterr().out
