"""Issue 14's results section of docs/results.md, from the outputs of experiments/kf32/x4.py.

    .venv/bin/python experiments/kf32/x4_report.py [--plan experiments/kf32/x4.toml]
        [--out runs/kf32x4]

The plan's [report]: block of docs/results.md (and docs/figures/<block>/), heading, labels,
pairs. Every number comes from a file the driver wrote; costs count every member.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from rollflow.analysis.readings import line_of, solver_readings, verdicts_table
from rollflow.analysis.tables import ema_table, replace_block
from rollflow.configio import load_toml
from rollflow.provenance import git_commit, machine_description
from rollflow.training.shipped import cpu_hours_by_stage, read_model_card

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOC = ROOT / "docs/results.md"
SOLVERS = {f"solver_{n}": f"jax-cfd {n}²" for n in (32, 64, 128)}
REFERENCES = {"persistence": "persistence", "climatology": "climatology (time-mean field)",
              "climatology_prob": "probabilistic climatology (8 random climate frames)"}
VOID_EMAS = ("Every kept EMA follows the ramp (1 + s)/(10 + s) while below its decay, so in runs "
             "of a few thousand steps all kept EMAs coincide and the choice is void.")


def labels_and_pairs(report: dict) -> tuple[dict, list]:
    """The plan's [report] labels (each student's also for its bf16 calls) and the paired
    comparisons: every student at both precisions against jax-cfd 64², then the plan's."""
    students = report["students"]
    labels = {f"{run}{tag}": label + extra for run, label in students.items()
              for tag, extra in (("_bf16", ", bf16 calls"), ("", ""))}
    labels |= report["labels"] | REFERENCES
    pairs = [(f"{run}{tag}", "solver_64") for run in students for tag in ("", "_bf16")]
    return labels, pairs + [tuple(p) for p in report["pairs"]]


def _rel(path: Path) -> Path:
    return path.resolve().relative_to(ROOT) if path.resolve().is_relative_to(ROOT) else path


def load(out: Path) -> dict:
    import xarray as xr
    return {p.stem: xr.load_dataset(p) for p in sorted((out / "scores").glob("*.nc"))}


def learning_curve_rows(out: Path) -> list[str]:
    """Each teacher's validation skill against CPU-hours (a warm start's counting the runs it
    descends from), and the rolling model shipped before issue 14 on the same protocol."""
    lines = ["| teacher step | windows seen | CPU-hours | T₀.₈ validation (ens. mean, 4 "
             "members) | T₀.₈ single member |", "|---|---|---|---|---|"]
    for curve in sorted(out.glob("*/learning_curve.json")):
        before = sum(h for stage, h in cpu_hours_by_stage(curve.parent).items()
                     if stage != "training" and not stage.endswith(" data"))   # its sources
        lines += [f"| {curve.parent.name} {e['step']} | {e['samples_seen']} | "
                  f"{before + e['cpu_hours']:.2f} | {e['T_mean']['0.8']:.2f} | "
                  f"{e['T_member']['0.8']:.2f} |" for e in json.loads(curve.read_text())]
    if (before := out / "before_validation.json").exists():     # x4_choose.select_stage
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
    ramps = {json.loads((out / r / "config.json").read_text())["optim"].get("ema_ramp", "short")
             for r in choices}      # docs/method.md, "Kept EMAs"
    note = (VOID_EMAS if ramps == {"short"} else "EMAs on the \"mean\" ramp: decay d averages "
            "about the last 1/(1 − d) steps.")
    return (ema_table(choices) + ["", note]) if choices else []


def choice_rows(out: Path, labels: dict) -> list[str]:
    """The choose stage: every candidate on the selection set, the chosen one marked."""
    if not (path := out / "final_choice.json").exists():
        return []
    choice = json.loads(path.read_text())
    return (["### Choice of the final model (selection set: 24 validation trajectories × 3 "
             "states, seed 500; never the test set)", ""]
            + verdicts_table(choice["selection"], labels, choice["chosen"], "jax-cfd 64²")
            + ["", "Chosen: the candidate whose worse reading (single-member margin, or the "
               "interval's lower end) is largest.", ""])


def test_section(scores: dict, out: Path, report: dict) -> list[str]:
    """`rollflow report`'s page of the test-set score stores (readings at every M with the
    cost of all members, references, paired comparisons, scorecard, panels, Pareto)."""
    from rollflow.analysis.report import embedded, report_page

    if line_of(solver_readings(scores, SOLVERS)) is None:
        return ["Test-set scores: pending (x4.py stages forecast, evaluate)."]
    labels, pairs = labels_and_pairs(report)
    figures = f"figures/{report['block']}/report"
    page = report_page(scores, ROOT / "docs" / figures, labels=labels,
                       pairs=[p for p in pairs if all(n in scores for n in p)],
                       baseline=report["baseline"] if report["baseline"] in scores else None,
                       title="KF32 test set")[0]
    return ["### Test set: 16 trajectories × 3 initial states (seed 1000), cluster "
            "bootstrap by trajectory", "",
            f"Page: [{figures}/report.md]({figures}/report.md) (the same as `rollflow report "
            f"{_rel(out)}/scores/*.nc --out docs/{figures}` but for its labels and "
            "pairs).", *embedded(page.read_text(), f"{figures}/", depth=2)]


def section(out: Path, plan_path: Path, report: dict) -> list[str]:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    plan = _rel(plan_path)
    return ["", f"## {report['heading']}", "",
            f"Generated by `.venv/bin/python experiments/kf32/x4_report.py --plan {plan} --out "
            f"{_rel(out)}` at commit `{git_commit(ROOT)}`, {when}, on "
            f"{machine_description()} (no GPU). Inputs: `experiments/kf32/x4.py` (plan "
            f"`{plan}`).", "", *learning_curve_rows(out), *ema_rows(out), "",
            *choice_rows(out, labels_and_pairs(report)[0]),
            *test_section(load(out), out, report), ""]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", type=Path, default=HERE / "x4.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32x4")
    args = parser.parse_args(argv)
    report = load_toml(args.plan)["report"]
    start, end = f"<!-- {report['block']}:start -->", f"<!-- {report['block']}:end -->"
    block = "\n".join([start, *section(args.out.resolve(), args.plan, report), end])
    DOC.write_text(replace_block(DOC.read_text(), start, end, block))   # new: at the end
    return print(f"[x4_report] wrote {DOC}", file=sys.stderr) or 0


if __name__ == "__main__":
    sys.exit(main())
