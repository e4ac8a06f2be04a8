"""docs/tutorial.ipynb runs as written: its code cells execute in order, in one namespace,
in a fresh directory (tiny data; needs the shipped kf32-rolling model)."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"


def test_tutorial_notebook_executes(tmp_path, monkeypatch):
    from rollflow.training.shipped import shipped_models

    if "kf32-rolling" not in shipped_models():
        pytest.fail("the tutorial needs the shipped model kf32-rolling (rollflow/weights)")
    notebook = json.loads(NOTEBOOK.read_text())
    assert notebook["nbformat"] == 4
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert len(cells) >= 5
    for number, cell in enumerate(cells, 1):
        exec(compile("".join(cell["source"]), f"tutorial cell {number}", "exec"), namespace)
    assert namespace["skill"].decorrelation_mean_estimate.sizes["threshold"] == 3
    assert (tmp_path / "tutorial.zarr").exists()
