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
