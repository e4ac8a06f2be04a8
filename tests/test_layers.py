"""The import contracts in pyproject.toml hold (layers point down; jax only in the solver;
zarr/netCDF only in the store; no torch in analysis)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_contracts_catch_a_violation(tmp_path):
    """The checker is live: a module in analysis importing torch must be reported."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed")
    shutil.copytree(ROOT / "rollflow", tmp_path / "rollflow",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "rollflow" / "analysis").mkdir(exist_ok=True)
    (tmp_path / "rollflow" / "analysis" / "_contract_probe.py").write_text("import torch\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([exe, "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                            env=env)
    assert result.returncode != 0
    assert "torch" in result.stdout


def test_design_page_lists_every_module_of_the_package():
    """docs/design.md's layer tree names every top-level module and subpackage of
    rollflow, and nothing that is gone (issue 17: it had fallen out of date)."""
    import re

    text = (ROOT / "docs" / "design.md").read_text()
    tree = text.split("```\nrollflow/", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"\b([a-z_]+)(?:\.py|/)", tree)) - {"simulations", "experiments",
                                                               "benchmarks"}
    package = ROOT / "rollflow"
    actual = {p.stem for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")}
    actual |= {p.name for p in package.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert named == actual, (sorted(actual - named), sorted(named - actual))


def test_no_private_name_is_imported_across_modules():
    """Issue 17: a private name (leading underscore) stays in its module, and a private
    module (`analysis/_checks.py`, `cli/_shared.py`) in its package; what anything else
    needs is public."""
    import ast

    offenders = []
    for folder in ("rollflow", "benchmarks", "experiments", "tests", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rollflow"):
                    private = [a.name for a in node.names
                               if a.name.startswith("_") and not a.name.startswith("__")]
                    parts = node.module.split(".")
                    hidden = [i for i, part in enumerate(parts) if part.startswith("_")]
                    package = ROOT.joinpath(*parts[:hidden[0]]) if hidden else None
                    outside = package is not None and package not in path.parents
                    if private or outside:
                        offenders.append(f"{path.relative_to(ROOT)}: from {node.module} "
                                         f"import {', '.join(a.name for a in node.names)}")
    assert offenders == [], "\n".join(offenders)


def test_command_modules_are_thin_and_experiments_call_the_library():
    """Issue 17: every module under rollflow/cli/ and every experiment driver is at most 150
    lines (the work lives in the library; the contract above forbids numpy, torch, jax in
    the CLI), and the experiment drivers never import or spawn `rollflow.cli`."""
    import ast

    drivers = [*(ROOT / "rollflow" / "cli").glob("*.py"), *(ROOT / "experiments").rglob("*.py")]
    long = {str(p.relative_to(ROOT)): n for p in drivers
            if (n := len(p.read_text().splitlines())) > 150}
    assert long == {}, "thin drivers: move the logic into the library"
    for path in sorted((ROOT / "experiments").rglob("*.py")):
        text = path.read_text()
        names = [getattr(node, "module", None) or "" for node in ast.walk(ast.parse(text))
                 if isinstance(node, ast.ImportFrom)]
        names += [alias.name for node in ast.walk(ast.parse(text))
                  if isinstance(node, ast.Import) for alias in node.names]
        assert not any(n.startswith("rollflow.cli") for n in names), path
        assert '"rollflow.cli"' not in text and "'rollflow.cli'" not in text, path
