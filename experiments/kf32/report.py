"""Write the KF32 benchmark section of docs/results.md and its figures from the run outputs.

    .venv/bin/python experiments/kf32/report.py [--out runs/kf32]

Reads runs/kf32/scores/*.nc, learning_curve_rolling.json and ablations/summary.json and
writes the block between the kf32-benchmark markers of docs/results.md. The test-set part
is the page `rollflow report` makes from the score stores alone (headline readings with the
cost of all members, no-skill references, paired comparisons, scorecard against the rolling
model, lead-time panels, Pareto: rollflow.analysis.report), written to
docs/figures/kf32/report/ and embedded; ablations, learning curve, divergence and rollouts
come from their own files. Sections whose inputs are missing say "pending".
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from rollflow.analysis.tables import (ablation_table, divergence_table, learning_curve_table,
                                      replace_block, rollout_table)
from rollflow.provenance import git_commit, machine_description

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOC = ROOT / "docs" / "results.md"
FIGURES = ROOT / "docs" / "figures" / "kf32"
START, END = "<!-- kf32-benchmark:start -->", "<!-- kf32-benchmark:end -->"
PAIRS = [("rolling", "standard"), ("rolling", "deterministic"), ("rolling", "solver_64"),
         ("deterministic_sym", "deterministic"), ("rolling", "deterministic_sym")]
LABELS = {"rolling": "rolling diffusion", "standard": "standard diffusion",
          "deterministic": "deterministic (MSE)", "persistence": "persistence"}


def _label(name: str) -> str:
    if name.startswith("solver_"):
        return f"jax-cfd {name.split('_')[1]}²"
    return LABELS.get(name, name)


def _load_scores(out: Path) -> dict:
    """Every test-set score store (runs/kf32/scores/<forecaster>.nc; rollouts apart)."""
    import xarray as xr

    return {p.stem: xr.load_dataset(p) for p in sorted((out / "scores").glob("*.nc"))
            if not p.stem.startswith("rollout_")}


def test_section(scores: dict) -> list[str]:
    """`rollflow report`'s page of the test-set scores, embedded."""
    from rollflow.analysis.report import embedded, report_page

    if not any(n in scores for n in ("rolling", "standard", "deterministic")):
        return ["Test-set scores: pending (benchmark.py stages forecast … evaluate)."]
    pairs = [p for p in PAIRS if all(n in scores for n in p)]
    page = report_page(scores, FIGURES / "report", pairs=pairs, title="KF32 test set",
                       baseline="rolling" if "rolling" in scores else None)[0]
    return ["Page: [figures/kf32/report/report.md](figures/kf32/report/report.md) (the same "
            "as `rollflow report runs/kf32/scores/*.nc --out docs/figures/kf32/report`, whose "
            "default pairs are every model against the first).",
            *embedded(page.read_text(), "figures/kf32/report/", depth=2)]


def ablation_section(out: Path) -> list[str]:
    path = out / "ablations" / "summary.json"
    if path.exists():
        summary = json.loads(path.read_text())
    else:   # an unfinished ablation run: the variants done so far
        summary = {p.parent.name: json.loads(p.read_text())
                   for p in sorted((out / "ablations").glob("*/result.json"))}
    return ablation_table(summary) if summary else ["Ablations: pending (ablate.py)."]


def curve_section(out: Path) -> list[str]:
    path = out / "learning_curve_rolling.json"
    return (learning_curve_table(json.loads(path.read_text())) if path.exists()
            else ["Learning curve: pending (benchmark.py stage train)."])


def rollout_section(out: Path, models: list[str]) -> list[str]:
    import xarray as xr

    paths = {_label(n): out / "scores" / f"rollout_{n}.nc" for n in models}
    found = {label: xr.load_dataset(p) for label, p in paths.items() if p.exists()}
    return rollout_table(found) if found else ["Long rollouts: pending (benchmark.py stage "
                                               "rollouts)."]


def divergence_section(scores: dict) -> list[str]:
    """Members' divergence rate next to λ₁ (jax-cfd twins at 128², docs/figures/lyapunov_128)."""
    summary_path = ROOT / "docs" / "figures" / "lyapunov_128" / "summary.json"
    if not summary_path.exists():
        return ["Lyapunov reference missing (rollflow lyapunov simulations/lyapunov_128.toml)."]
    summary = json.loads(summary_path.read_text())
    lines = divergence_table({_label(n): s for n, s in scores.items()},
                             summary["lyapunov_exponent_mean"], summary["lyapunov_exponent_std"],
                             "jax-cfd twins at 128², `docs/figures/lyapunov_128`")
    return lines + ["", "The members start from the same state, so their separation grows "
                    "from the sampler's noise; the rate is fitted over the regime below half "
                    "of saturation (`rollflow.analysis.separation_growth`, mean over test "
                    "trajectories)."]


def render(out: Path, plan: dict) -> str:
    scores = _load_scores(out)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [START, "", "## The KF32 benchmark", "",
             f"Generated by `.venv/bin/python experiments/kf32/report.py` at commit "
             f"`{git_commit(ROOT)}`, {now}, on {machine_description()} "
             f"(no GPU). Inputs: `experiments/kf32/benchmark.py` "
             f"(plan `experiments/kf32/benchmark.toml`) and `experiments/kf32/ablate.py`.", "",
             "### Fixed-budget ablations (validation store, seed 500)", ""]
    lines += ablation_section(out)
    lines += ["", "### Learning curve of the rolling model (validation store)", ""]
    lines += curve_section(out)
    lines += ["", "### Test set: models, solver ladder, no-skill references (seed 1000)", ""]
    lines += test_section(scores)
    lines += ["", "### Ensemble divergence against the Lyapunov exponent", ""]
    lines += divergence_section(scores)
    lines += ["", "### Long rollouts", ""] + rollout_section(out, list(plan["models"]))
    return "\n".join(lines + ["", END])


def main(argv: list[str] | None = None) -> int:
    from rollflow.configio import load_toml

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32")
    parser.add_argument("--plan", type=Path, default=HERE / "benchmark.toml")
    args = parser.parse_args(argv)
    DOC.write_text(replace_block(DOC.read_text(), START, END,
                                 render(args.out, load_toml(args.plan))))
    print(f"wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
