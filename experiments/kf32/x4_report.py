"""Issue 14's results section of docs/results.md, from the outputs of experiments/kf32/x4.py.

    .venv/bin/python experiments/kf32/x4_report.py [--out runs/kf32x4]

Every number comes from a file the driver wrote (scores, learning curves, EMA and final
choices); costs count every member. Tables and figures: rollflow.analysis.readings/.tables.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from rollflow.analysis.readings import line_of, solver_readings, verdicts_table
from rollflow.analysis.tables import ema_table, replace_block
from rollflow.provenance import git_commit, machine_description

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOC = ROOT / "docs/results.md"
FIGURES = ROOT / "docs/figures/kf32x4"
START, END = "<!-- kf32x4:start -->", "<!-- kf32x4:end -->"
STUDENTS = {"student_k1": "K = 1 student", "student_k2": "K = 2 student",
            "more_k1": "K = 1 student of the continued teacher (final choice, shipped as kf32-rolling-k1)",
            "more_k2": "K = 2 student of the continued teacher",
            "kf32-rolling-k1": "earlier kf32-rolling-k1 (K = 1 student of the teacher)"}
FAMILIES = {**{f"{run}{tag}": label + extra for run, label in STUDENTS.items()
               for tag, extra in (("_bf16", ", bf16 calls"), ("", ""))},
            "teacher": "teacher (K = 4)", "teacher_more": "continued teacher (K = 4)",
            "kf32-rolling": "kf32-rolling (the teacher, K = 4)",
            "kf32-standard": "kf32-standard (today's)",
            "persistence": "persistence", "climatology": "climatology (time-mean field)",
            "climatology_prob": "probabilistic climatology (8 random climate frames)"}
SOLVERS = {"solver_32": "jax-cfd 32²", "solver_64": "jax-cfd 64²", "solver_128": "jax-cfd 128²"}
PAIRS = [(f"{run}{tag}", "solver_64") for run in STUDENTS for tag in ("", "_bf16")] + [
    ("teacher", "solver_64"), ("teacher", "kf32-rolling"), ("teacher_more", "teacher"),
    ("more_k1", "kf32-rolling-k1"), ("more_k1_bf16", "kf32-rolling-k1"), ("more_k2", "more_k1"),
    ("kf32-rolling-k1_bf16", "kf32-rolling-k1"), ("kf32-rolling-k1", "kf32-rolling")]


def load(out: Path) -> dict:
    import xarray as xr

    return {p.stem: xr.load_dataset(p) for p in sorted((out / "scores").glob("*.nc"))}


def learning_curve_rows(out: Path) -> list[str]:
    """Each teacher's validation skill against CPU-hours (a warm start's counting the run it
    started from), and the rolling model shipped before issue 14 on the same protocol."""
    from rollflow.training import latest_progress

    lines = ["| teacher step | windows seen | CPU-hours | T₀.₈ validation (ens. mean, 4 "
             "members) | T₀.₈ single member |", "|---|---|---|---|---|"]
    for curve in sorted(out.glob("*/learning_curve.json")):
        source = json.loads((curve.parent / "config.json").read_text()).get("init", {})
        before = (latest_progress(ROOT / source["weights"])[1]["cpu_seconds"] / 3600
                  if source.get("weights") else 0.0)
        lines += [f"| {curve.parent.name} {e['step']} | {e['samples_seen']} | "
                  f"{before + e['cpu_hours']:.2f} | {e['T_mean']['0.8']:.2f} | "
                  f"{e['T_member']['0.8']:.2f} |" for e in json.loads(curve.read_text())]
    if (before := out / "before_validation.json").exists():     # x4_choose.select_stage
        from rollflow.training.shipped import read_model_card

        saved = json.loads(before.read_text())
        card, e = read_model_card(saved["model"], out / "released"), saved["validation"]
        lines.append(f"| {card['name']} before issue 14 (31 "
                     f"trajectories, no augmentation; step {card['step']}) | "
                     f"{card['card'].get('samples_seen')} | {card['card'].get('cpu_hours', 0):.2f}"
                     f" | {e['T_mean']['0.8']:.2f} | {e['T_member']['0.8']:.2f} |")
    return lines + [""]


def ema_rows(out: Path) -> list[str]:
    """Every kept EMA of every run on validation, the chosen one marked."""
    choices = {p.parent.name: json.loads(p.read_text())
               for p in sorted(out.glob("*/ema_choice.json"))}
    return (ema_table(choices) + [
        "", "Every kept EMA follows the warm-up ramp (1 + s)/(10 + s) while it is below its "
        "decay, so in runs of a few thousand steps (the students) all kept EMAs coincide and "
        "the choice among them is void."]) if choices else []


def choice_rows(out: Path) -> list[str]:
    """The choose stage: every candidate on the selection set, the chosen one marked."""
    if not (path := out / "final_choice.json").exists():
        return []
    choice = json.loads(path.read_text())
    return (["### Choice of the final model (selection set: 24 validation trajectories × 3 "
             "states, seed 500; never the test set)", ""]
            + verdicts_table(choice["selection"], FAMILIES, choice["chosen"], "jax-cfd 64²")
            + ["", "Chosen: the candidate whose worse reading (single-member margin, or the "
               "interval's lower end) is largest.", ""])


def test_section(scores: dict) -> list[str]:
    """`rollflow report`'s page of the test-set score stores (readings at every M with the
    cost of all members, references, paired comparisons, scorecard, panels, Pareto)."""
    from rollflow.analysis.report import embedded, report_page

    if line_of(solver_readings(scores, SOLVERS)) is None:
        return ["Test-set scores: pending (x4.py stages forecast, evaluate)."]
    page = report_page(scores, FIGURES / "report", labels=FAMILIES,
                       pairs=[p for p in PAIRS if all(n in scores for n in p)],
                       baseline="kf32-rolling-k1" if "kf32-rolling-k1" in scores else None,
                       title="KF32 test set")[0]
    return ["### Test set: 16 trajectories × 3 initial states (seed 1000), cluster "
            "bootstrap by trajectory", "",
            "Page: [figures/kf32x4/report/report.md](figures/kf32x4/report/report.md) (the "
            "same as `rollflow report runs/kf32x4/scores/*.nc --out docs/figures/kf32x4/report`"
            " but for its labels and pairs).", *embedded(page.read_text(),
                                                         "figures/kf32x4/report/", depth=2)]


def section(out: Path) -> list[str]:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [START, "", "## Issue 14: skill per CPU-second (KF32, 4× data, symmetries, "
            "distillation)", "",
            f"Generated by `.venv/bin/python experiments/kf32/x4_report.py` at commit "
            f"`{git_commit(ROOT)}`, {when}, on {machine_description()} (no GPU). Inputs: "
            "`experiments/kf32/x4.py` (plan `experiments/kf32/x4.toml`).", "",
            *learning_curve_rows(out), *ema_rows(out), "", *choice_rows(out),
            *test_section(load(out)), "", END]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32x4")
    args = parser.parse_args(argv)
    block = "\n".join(section(args.out))
    DOC.write_text(replace_block(DOC.read_text(), START, END, block))
    print(f"[x4_report] wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
