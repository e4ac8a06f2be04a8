"""Docs stay true: generated docs are current, every snippet and command runs or parses."""

import subprocess
import sys

import pytest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "cli_reference.py"),
                             "--check"], cwd=ROOT)
    assert result.returncode == 0, "docs/cli.md is stale: run scripts/cli_reference.py"


def test_models_page_is_the_shipped_cards():
    """Bug: docs/models.md kept the per-member-only cost lines after the cards gained the
    cost of all members; the page is now checked against its renderer."""
    from rollflow.training.cards import models_page

    assert (ROOT / "docs" / "models.md").read_text() == models_page(), \
        "docs/models.md is stale: run experiments/kf32/ship.py or x4_ship.py"


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

    from rollflow.baselines import persistence_forecast
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


# ---------------------------------------------------------------------------------------
# Documented shell commands
# ---------------------------------------------------------------------------------------

_PREFIXES = ("rollflow ", ".venv/bin/rollflow ", "python ", ".venv/bin/python ", "bash ",
             "flock ")


def _doc_sources() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _bash_blocks(text: str) -> list[str]:
    return [block.split("```", 1)[0] for block in text.split("```bash\n")[1:]]


def _documented_commands() -> list[tuple[str, list[str]]]:
    """(where, argv) of every command in a ```bash block or an inline code span of README.md
    and docs/*.md (the generated docs/cli.md holds usage lines, not commands)."""
    import re
    import shlex

    found = []
    for path in _doc_sources():
        if path.name == "cli.md":
            continue
        text = path.read_text()
        for block in _bash_blocks(text):
            for line in block.splitlines():
                argv = shlex.split(line, comments=True)
                if argv:
                    found.append((f"{path.name}: {line.strip()}", argv))
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        for span in re.findall(r"`([^`]+)`", prose):
            span = " ".join(span.split())
            synopsis = "|" in span or "[" in span        # a usage line, not a command
            lock_only = span.startswith("flock") and len(span.split()) == 2
            if span.startswith(_PREFIXES) and not synopsis and not lock_only:
                found.append((f"{path.name}: `{span}`", shlex.split(span)))
    return found


def _normalise(argv: list[str]) -> list[str]:
    """Drop `flock LOCK` and the `.venv/bin/` prefix."""
    if argv[0] == "flock":
        argv = argv[2:]
    return [Path(argv[0]).name if argv[0].startswith(".venv/bin/") else argv[0], *argv[1:]]


def _is_placeholder(arg: str) -> bool:
    return any(c.isupper() for c in Path(arg).stem) or "{" in arg


def test_every_documented_command_is_valid_as_written():
    """Every `rollflow …` command in the docs parses with the real CLI parser and names
    configs that exist; every script exists and accepts the options it is shown with."""
    import argparse
    import contextlib
    import io

    from rollflow.cli import build_parser

    commands = _documented_commands()
    assert len(commands) > 20, "the command extraction found too little"
    parser = build_parser()
    subcommands = next(a for a in parser._actions
                       if isinstance(a, argparse._SubParsersAction)).choices
    problems, helps = [], {}
    for where, argv in commands:
        argv = _normalise(argv)
        program, args = argv[0], argv[1:]
        files = [a for a in args if a.endswith((".toml", ".py", ".sh"))
                 and not _is_placeholder(a)]
        if program == "rollflow":
            if len(args) == 1:
                if args[0] not in subcommands:
                    problems.append(f"{where}: no sub-command {args[0]!r}")
                continue
            with contextlib.redirect_stderr(io.StringIO()) as err:
                try:
                    parser.parse_args(args)
                except SystemExit:
                    problems.append(f"{where}: {err.getvalue().strip().splitlines()[-1]}")
        elif program in ("python", "bash"):
            script, options = args[0], [a for a in args[1:] if a.startswith("--")]
            files.append(script)
            if program == "python" and (ROOT / script).exists():
                if script not in helps:
                    helps[script] = subprocess.run(
                        [sys.executable, script, "--help"], cwd=ROOT, capture_output=True,
                        text=True, timeout=120)
                result = helps[script]
                if result.returncode != 0:
                    problems.append(f"{where}: --help exits {result.returncode}")
                problems += [f"{where}: {script} has no option {o}"
                             for o in options if o not in result.stdout]
            elif program == "bash" and (ROOT / script).exists() and args[1:]:
                import re

                text = (ROOT / script).read_text()
                forwards = re.search(r'rollflow (\w+) "\$@"', text)
                positional = max(map(int, re.findall(r"\$\{?([1-9])", text)), default=0)
                if forwards is None:          # positional arguments only ($1, ${2:-default})
                    if len(args[1:]) > positional:
                        problems.append(f"{where}: {script} takes {positional or 'no'} "
                                        f"arguments")
                else:
                    with contextlib.redirect_stderr(io.StringIO()):
                        try:
                            parser.parse_args([forwards.group(1), *args[1:]])
                        except SystemExit:
                            problems.append(f"{where}: rollflow {forwards.group(1)} rejects "
                                            f"{' '.join(args[1:])}")
        else:
            problems.append(f"{where}: unknown program {program!r}")
        problems += [f"{where}: {f} does not exist" for f in files
                     if not (ROOT / f).exists() and not f.startswith("try/")]
    assert not problems, "\n".join(problems)


def test_the_command_check_catches_a_wrong_option():
    """The check above is live: a misspelt option fails to parse."""
    from rollflow.cli import build_parser

    try:
        build_parser().parse_args(["forecast", "kf32-rolling", "--data", "s.zarr", "--out",
                                   "f.zarr", "--member", "8x"])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("a wrong option parsed")


def _walkthrough() -> str:
    blocks = _bash_blocks((ROOT / "README.md").read_text())
    return next(b for b in blocks if "rollflow simulate" in b)


@pytest.mark.slow
def test_readme_walkthrough_runs_as_written(tmp_path):
    """The README's "Using it" block, line by line, as written, in a scratch directory
    that links the repo's configs and the installed `rollflow` (≈ 4 min)."""
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for tool in ("rollflow", "python"):
        (bin_dir / tool).symlink_to(Path(sys.executable).parent / tool)
    for folder in ("experiments", "simulations"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    for line in _walkthrough().splitlines():
        if not line.strip():
            continue
        result = subprocess.run(["bash", "-c", line], cwd=tmp_path, capture_output=True,
                                text=True, timeout=900)
        assert result.returncode == 0, f"{line}\n{result.stderr[-2000:]}"
    assert (tmp_path / "try" / "figs").is_dir() and (tmp_path / "try" / "mine.zarr").is_dir()
