"""Issue 14's results section of docs/results.md, from the outputs of experiments/kf32/x4.py.

    .venv/bin/python experiments/kf32/x4_report.py [--out runs/kf32x4]

Every number comes from a file the driver wrote (scores/*.nc, learning_curve.json,
*/ema_choice.json) or from docs/figures/call_speed.json (benchmarks/call_speed.py); costs
count every member a reading averages (rollflow.analysis.cost).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOC = ROOT / "docs/results.md"
FIGURES = ROOT / "docs/figures/kf32x4"
START, END = "<!-- kf32x4:start -->", "<!-- kf32x4:end -->"
FAMILIES = {"student_k1_bf16": "K = 1 student, bf16 calls", "student_k1": "K = 1 student",
            "student_k2": "K = 2 student", "teacher": "teacher (K = 4)",
            "kf32-rolling": "kf32-rolling (today's, K = 4)",
            "kf32-standard": "kf32-standard (today's)"}
SOLVERS = {"solver_32": "jax-cfd 32²", "solver_64": "jax-cfd 64²", "solver_128": "jax-cfd 128²"}
REFERENCES = {"persistence": "persistence", "climatology": "climatology (time-mean field)",
              "climatology_prob": "probabilistic climatology (8 random climate frames)"}


def load(out: Path) -> dict:
    import xarray as xr

    return {p.stem: xr.load_dataset(p) for p in sorted((out / "scores").glob("*.nc"))}


def T(skill, key: str = "mean", c: float = 0.8) -> tuple[float, float, float]:
    return tuple(float(skill[f"decorrelation_{key}_{k}"].sel(threshold=c))
                 for k in ("estimate", "lower", "upper"))


def fmt(t: tuple[float, float, float]) -> str:
    return f"{t[0]:.2f} [{t[1]:.2f}, {t[2]:.2f}]"


def per_member_cost(skill) -> float:
    return float(skill.attrs["forecast_seconds_per_time_unit"])


def readings(scores: dict) -> list[dict]:
    """One row per (forecaster, M): its T0.8 reading and the cost of all M members."""
    rows = []
    for family, label in FAMILIES.items():
        if family not in scores:
            continue
        full = scores[family]
        members = int(full.sizes.get("member", full.attrs.get("forecast_num_members", 8)))
        members = int(full.attrs.get("forecast_num_members", members))
        cost = per_member_cost(full)
        calls = float(full.attrs.get("forecast_network_calls_per_frame", float("nan")))
        one = scores.get(f"{family}_m1")
        if one is not None:        # a real one-member forecast: its own reading and cost
            rows.append(dict(family=family, label=label, M=1, T=T(one, "mean"),
                             cost=per_member_cost(one), calls=calls, skill=one))
        else:                      # the single-member reading of the full ensemble
            rows.append(dict(family=family, label=label, M=1, T=T(full, "member"),
                             cost=cost, calls=calls, skill=full))
        for m in (2, 4):
            if f"{family}_m{m}" in scores:
                rows.append(dict(family=family, label=label, M=m,
                                 T=T(scores[f"{family}_m{m}"]), cost=m * cost, calls=calls,
                                 skill=scores[f"{family}_m{m}"]))
        rows.append(dict(family=family, label=label, M=members, T=T(full), cost=members * cost,
                         calls=calls, skill=full))
    return rows


def solver_rows(scores: dict) -> list[dict]:
    return [dict(family=n, label=l, M=1, T=T(scores[n]), cost=per_member_cost(scores[n]),
                 calls=float("nan"), skill=scores[n]) for n, l in SOLVERS.items() if n in scores]


def reference_rows(scores: dict) -> list[str]:
    """The "no skill" lines: their T and the RMSE / CRPS they saturate at (last lead)."""
    lines = ["| reference (cost 0) | members | T₀.₉₅ | T₀.₈ [95 % CI] | RMSE at 10 t.u. "
             "| CRPS at 10 t.u. |", "|---|---|---|---|---|---|"]
    for name, label in REFERENCES.items():
        if name in scores:
            s = scores[name]
            crps = f"{float(s.crps.isel(time=-1)):.3f}" if "crps" in s else "—"
            members = s.attrs.get("forecast_num_members", 1)
            lines.append(f"| {label} | {members} | {T(s, 'mean', 0.95)[0]:.2f} | {fmt(T(s))} | "
                         f"{float(s.rmse.isel(time=-1)):.3f} | {crps} |")
    return lines


def main_table(rows: list[dict], solvers: list[dict], line) -> list[str]:
    from rollflow.analysis.cost import skill_margin

    lines = ["| forecaster | members M | network calls per frame (all M) | s per t.u. per "
             "trajectory (all M) | T₀.₉₅ | T₀.₉ | T₀.₈ [95 % CI] | T₀.₈ − solver line at "
             "that cost |", "|---|---|---|---|---|---|---|---|"]
    for r in rows + solvers:
        s = r["skill"]
        key = "mean"
        t95, t9 = T(s, key, 0.95)[0], T(s, key, 0.9)[0]
        if r["M"] == 1 and r["family"] in FAMILIES and s.attrs.get("forecast_num_members", 1) > 1:
            key = "member"
            t95, t9 = T(s, key, 0.95)[0], T(s, key, 0.9)[0]
        calls = "—" if r["calls"] != r["calls"] else f"{r['calls'] * r['M']:.2f}"
        margin = skill_margin(line, r["cost"], r["T"][0])
        lines.append(f"| {r['label']} | {r['M']} | {calls} | {r['cost']:.3g} | {t95:.2f} | "
                     f"{t9:.2f} | {fmt(r['T'])} | {margin:+.2f} |")
    return lines


def paired(scores: dict, pairs: list[tuple[str, str]]) -> list[str]:
    from rollflow.analysis import paired_decorrelation_difference

    lines = ["| comparison (ensemble means, same 48 states) | ΔT₀.₉₅ | ΔT₀.₉ | ΔT₀.₈ [95 % CI] "
             "| share of resamples with the first longer at 0.8 |", "|---|---|---|---|---|"]
    for a, b in pairs:
        if a not in scores or b not in scores:
            continue
        curves = [scores[n].ensemble_mean_correlation.swap_dims(time="lead_time")
                  for n in (a, b)]
        if "trajectory" in scores[a].coords:
            curves = [c.assign_coords(trajectory=scores[a].trajectory) for c in curves]
        d = paired_decorrelation_difference(*curves, dim="lead_time")
        cell = lambda c: f"{float(d.estimate.sel(threshold=c)):+.2f}"
        lines.append(f"| {FAMILIES.get(a, SOLVERS.get(a, a))} − {FAMILIES.get(b, SOLVERS.get(b, b))} "
                     f"| {cell(0.95)} | {cell(0.9)} | {cell(0.8)} "
                     f"[{float(d.lower.sel(threshold=0.8)):+.2f}, "
                     f"{float(d.upper.sel(threshold=0.8)):+.2f}] | "
                     f"{float(d.share_first_longer.sel(threshold=0.8)):.3f} |")
    return lines


def pareto(rows: list[dict], solvers: list[dict], scores: dict) -> Path:
    import xarray as xr

    from rollflow.analysis import plot_pareto, save_figure

    items = [(r, "solver", "", r["label"]) for r in solvers]
    items += [(r, "ensemble", r["label"], f"M={r['M']}") for r in rows]
    if "persistence" in scores:
        p = scores["persistence"]
        items.append((dict(T=T(p), cost=0.0, family="persistence"), "model", "", "persistence"))
    names = [f"{r['family']}_{i}" for i, (r, *_rest) in enumerate(items)]
    points = xr.Dataset(
        {"cost": ("model", [r["cost"] for r, *_ in items]),
         "estimate": ("model", [r["T"][0] for r, *_ in items]),
         "lower": ("model", [r["T"][1] for r, *_ in items]),
         "upper": ("model", [r["T"][2] for r, *_ in items]),
         "kind": ("model", [k for _, k, _, _ in items]),
         "group": ("model", [g for _, _, g, _ in items]),
         "label": ("model", [l for *_, l in items])}, coords={"model": names})
    return save_figure(plot_pareto(points), FIGURES / "pareto.png")


def training_tables(out: Path) -> list[str]:
    lines = []
    curve = out / "learning_curve.json"
    if curve.exists():
        lines += ["| teacher step | windows seen | CPU-hours | T₀.₈ validation (ens. mean, 4 "
                  "members) | T₀.₈ single member |", "|---|---|---|---|---|"]
        for e in json.loads(curve.read_text()):
            lines.append(f"| {e['step']} | {e['samples_seen']} | {e['cpu_hours']:.2f} | "
                         f"{e['T_mean']['0.8']:.2f} | {e['T_member']['0.8']:.2f} |")
        shipped = out / "shipped_validation.json"
        if shipped.exists():
            from rollflow.training.shipped import read_model_card

            for name, e in json.loads(shipped.read_text()).items():
                card = read_model_card(name)
                card = card["card"].get("history", [card["card"]])[0] | {"step": card["step"]}
                lines.append(f"| {name} before issue 14 (31 trajectories, no augmentation) | "
                             f"{card.get('samples_seen')} | {card.get('cpu_hours', 0):.2f} | "
                             f"{e['T_mean']['0.8']:.2f} | {e['T_member']['0.8']:.2f} |")
        lines.append("")
    runs = [r for r in ("teacher", "student_k2", "student_k1") if (out / r / "ema_choice.json").exists()]
    if runs:
        lines += ["| run | EMA decay | T₀.₈ validation (ens. mean) | single member | chosen |",
                  "|---|---|---|---|---|"]
        for run in runs:
            choice = json.loads((out / run / "ema_choice.json").read_text())
            for decay, s in choice["validation"].items():
                mark = "✓" if float(decay) == choice["chosen"] else ""
                lines.append(f"| {run} (step {choice['step']}, {choice['cpu_hours']:.2f} "
                             f"CPU-h) | {decay} | {s['T_mean']['0.8']:.2f} | "
                             f"{s['T_member']['0.8']:.2f} | {mark} |")
    return lines


def section(out: Path) -> list[str]:
    from rollflow.analysis.cost import solver_line

    FIGURES.mkdir(parents=True, exist_ok=True)
    scores = load(out)
    rows, solvers = readings(scores), solver_rows(scores)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [START, "", "## Issue 14: skill per CPU-second (KF32, 4× data, symmetries, "
             "distillation)", "",
             f"Generated by `.venv/bin/python experiments/kf32/x4_report.py` at commit "
             f"`{commit}`, {when}, on {platform.node()} (2 CPU cores, no GPU). Inputs: "
             "`experiments/kf32/x4.py` (plan `experiments/kf32/x4.toml`).", ""]
    lines += training_tables(out) + [""]
    finite = [r for r in solvers if r["T"][0] < float("inf")]
    if len(finite) >= 2:
        line = solver_line([r["cost"] for r in finite], [r["T"][0] for r in finite])
        lines += ["### Test set: 16 trajectories × 3 initial states (seed 1000), cluster "
                  "bootstrap by trajectory", ""]
        lines += main_table(rows, solvers, line) + [""] + reference_rows(scores) + [""]
        lines += paired(scores, [("student_k1", "solver_64"), ("student_k1_bf16", "solver_64"),
                                 ("teacher", "solver_64"), ("teacher", "kf32-rolling"),
                                 ("student_k1", "teacher"), ("student_k1_bf16", "student_k1")])
        path = pareto(rows, solvers, scores)
        lines += ["", f"![pareto](figures/kf32x4/{path.name})"]
    lines += ["", END]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32x4")
    args = parser.parse_args(argv)
    text = DOC.read_text()
    block = "\n".join(section(args.out)) + "\n"
    if START in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    DOC.write_text(text)
    print(f"[x4_report] wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
