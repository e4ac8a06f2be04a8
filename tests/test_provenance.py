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


def test_a_file_as_it_was_at_a_commit(tmp_path):
    """A file committed, then changed: its first version comes back byte for byte; an
    absent path is one FileNotFoundError line; nothing is left behind by the refusal."""
    import pytest

    from rollflow.provenance import file_at_commit

    repo = tmp_path / "repo"
    repo.mkdir()
    git = lambda *a: subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *a],
                                    cwd=repo, check=True, capture_output=True)
    git("init", "-q")
    (repo / "w.bin").write_bytes(bytes(range(256)))
    git("add", "w.bin")
    git("commit", "-qm", "first")
    first = git("rev-parse", "HEAD").stdout.decode().strip()
    (repo / "w.bin").write_bytes(b"later")
    git("commit", "-qam", "second")
    out = file_at_commit(first, "w.bin", tmp_path / "old" / "w.bin", root=repo)
    assert out.read_bytes() == bytes(range(256))
    with pytest.raises(FileNotFoundError, match="no absent.bin at commit"):
        file_at_commit(first, "absent.bin", tmp_path / "old" / "x.bin", root=repo)
    assert sorted(p.name for p in (tmp_path / "old").iterdir()) == ["w.bin"]
