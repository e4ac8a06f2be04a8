"""Provenance strings: the commit of a checkout, "unknown" elsewhere; the machine line."""

import os
import subprocess

from rollflow.provenance import git_commit, machine_description


def test_commit_of_this_checkout_and_of_a_plain_folder(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    expected = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True).stdout.strip()
    assert git_commit(root) == (expected or "unknown")
    assert git_commit(tmp_path) == "unknown"


def test_machine_line_names_the_cores():
    assert f"{os.cpu_count()} CPU cores" in machine_description()
