"""Write the KF32 benchmark section of docs/results.md and its figures from the run outputs.

    .venv/bin/python experiments/kf32/report.py [--out runs/kf32]

Reads runs/kf32/scores/*.nc (from benchmark.py's evaluate and rollouts stages),
runs/kf32/learning_curve_rolling.json and runs/kf32/ablations/summary.json; writes
docs/figures/kf32/*.png and replaces the block between the kf32-benchmark markers in
docs/results.md. Sections whose inputs do not exist yet are listed as pending, so the
page can be regenerated after every session.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOC = ROOT / "docs" / "results.md"
FIGURES = ROOT / "docs" / "figures" / "kf32"
START, END = "<!-- kf32-benchmark:start -->", "<!-- kf32-benchmark:end -->"
LABELS = {"rolling": "rolling diffusion", "standard": "standard diffusion",
          "deterministic": "deterministic (MSE)", "persistence": "persistence"}


def _label(name: str) -> str:
    if name.startswith("solver_"):
        return f"jax-cfd {name.split('_')[1]}²"
    return LABELS.get(name, name)


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _t(skill, kind: str, threshold: float) -> str:
    sel = {"threshold": threshold}
    est = float(skill[f"decorrelation_{kind}_estimate"].sel(sel))
    lo = float(skill[f"decorrelation_{kind}_lower"].sel(sel))
    hi = float(skill[f"decorrelation_{kind}_upper"].sel(sel))
    return f"{est:.2f} [{lo:.2f}, {hi:.2f}]"


def _t_record(r: dict, threshold: str = "0.8") -> str:
    """T (ensemble mean) with its CI from an ablate.py result record."""
    return (f"{r['T_mean_estimate'][threshold]:.2f} [{r['T_mean_lower'][threshold]:.2f}, "
            f"{r['T_mean_upper'][threshold]:.2f}]")


def _load_scores(out: Path, names: list[str]) -> dict:
    import xarray as xr

    scores = {}
    for name in names:
        path = out / "scores" / f"{name}.nc"
        if path.exists():
            scores[name] = xr.load_dataset(path)
    return scores


def main_table(scores: dict) -> list[str]:
    lines = ["| forecast | members | T₀.₉₅ (t.u.) | T₀.₉ (t.u.) | T₀.₈ (t.u.) | T₀.₈ single member "
             "| ρ at 0.2 / 1 / 2 t.u. | log-spectral error | network calls per frame per member "
             "| s per t.u. per trajectory, one member | s per t.u., all members (the "
             "ensemble-mean reading's cost) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, skill in scores.items():
        members = skill.attrs.get("num_members", 1)
        rho = " / ".join(f"{v:.3f}" for v in skill.correlation_at_leads.values)
        single = _t(skill, "member", 0.8) if members > 1 else "—"
        calls = skill.attrs.get("forecast_network_calls_per_frame")
        cost = skill.attrs.get("forecast_seconds_per_time_unit", float("nan"))
        lines.append(f"| {_label(name)} | {members} | {_t(skill, 'mean', 0.95)} | "
                     f"{_t(skill, 'mean', 0.9)} | {_t(skill, 'mean', 0.8)} | {single} | {rho} | "
                     f"{float(skill.log_spectral_error):.3f} | "
                     f"{'—' if calls is None else f'{calls:.2f}'} | {cost:.3g} | "
                     f"{cost * members:.3g} |")
    return lines


def figures(scores: dict) -> list[str]:
    import xarray as xr

    from rollflow.analysis import (plot_correlation, plot_pareto, plot_spectrum,
                                   plot_spread_skill, save_figure)

    FIGURES.mkdir(parents=True, exist_ok=True)
    names = list(scores)
    curves = xr.concat([scores[n].mean_correlation for n in names], dim="model")
    curves = curves.assign_coords(model=[_label(n) for n in names])
    out = [save_figure(plot_correlation(curves, dim="lead_time", label_dim="model"),
                       FIGURES / "correlation.png")]
    spectra = [scores[names[0]].energy_spectrum_truth] + [scores[n].energy_spectrum_forecast
                                                          for n in names]
    spectra = xr.concat(spectra, dim="model").assign_coords(
        model=["truth"] + [_label(n) for n in names])
    out.append(save_figure(plot_spectrum(spectra, label_dim="model", k_max=16),
                           FIGURES / "spectrum.png"))
    for name in names:
        if "spread" in scores[name]:
            skill = scores[name][["rmse", "spread", "spread_skill"]]
            skill = skill.swap_dims(time="lead_time")
            out.append(save_figure(plot_spread_skill(skill), FIGURES / f"spread_{name}.png"))
    points = xr.Dataset(
        {"cost": ("model", [float(scores[n].attrs.get("forecast_seconds_per_time_unit", 0))
                            * scores[n].attrs.get("num_members", 1)      # all members
                            for n in names if n != "persistence"]),
         **{k: ("model", [float(scores[n][f"decorrelation_mean_{k}"].sel(threshold=0.8))
                          for n in names if n != "persistence"])
            for k in ("estimate", "lower", "upper")},
         "kind": ("model", ["solver" if n.startswith("solver") else "model"
                            for n in names if n != "persistence"])},
        coords={"model": [_label(n) for n in names if n != "persistence"]})
    out.append(save_figure(plot_pareto(points), FIGURES / "pareto.png"))
    return [f"![{p.stem}](figures/kf32/{p.name})" for p in out]


def ablation_section(out: Path) -> list[str]:
    path = out / "ablations" / "summary.json"
    if path.exists():
        summary = json.loads(path.read_text())
    else:   # an unfinished ablation run: the variants done so far
        summary = {p.parent.name: json.loads(p.read_text())
                   for p in sorted((out / "ablations").glob("*/result.json"))}
    if not summary:
        return ["Ablations: pending (`experiments/kf32/ablate.py`)."]
    lines = ["| variant | overrides | parameters | CPU s per step | steps × batch | T₀.₈ ens. mean "
             "[95 % CI] | T₀.₉ | ρ at 0.2 / 1 / 2 t.u. | calls per frame |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in summary.items():
        if "_K" in name:
            continue
        t8 = _t_record(r)
        rho = " / ".join(f"{v:.3f}" for v in r["rho_at"].values())
        lines.append(f"| {name} | `{json.dumps(r['overrides'])}` | {r['parameters'] / 1e6:.2f} M | "
                     f"{r['cpu_seconds_per_step']:.3f} | {r['total_steps']} × {r['batch_size']} | "
                     f"{t8} | {r['T_mean_estimate']['0.9']:.2f} | {rho} | "
                     f"{r['calls_per_frame']:.2f} |")
    sweep = {k: v for k, v in summary.items() if "_K" in k}
    if sweep:
        lines += ["", "| sampling | steps per shift K | network calls per frame | T₀.₈ ens. mean "
                      "[95 % CI] | T₀.₉ | s per t.u. per trajectory |", "|---|---|---|---|---|---|"]
        for name, r in sweep.items():
            lines.append(f"| {name} | {r['steps_per_shift']} | {r['calls_per_frame']:.2f} | "
                         f"{_t_record(r)} | {r['T_mean_estimate']['0.9']:.2f} | "
                         f"{r['seconds_per_time_unit']:.3f} |")
    return lines


def curve_section(out: Path) -> list[str]:
    path = out / "learning_curve_rolling.json"
    if not path.exists():
        return ["Learning curve: pending (benchmark.py stage train)."]
    curve = json.loads(path.read_text())
    lines = ["| step | samples seen | CPU-hours | T₀.₈ validation (t.u.) | T₀.₉ |",
             "|---|---|---|---|---|"]
    for e in curve:
        lines.append(f"| {e['step']} | {e['samples_seen']} | {e['cpu_hours']:.2f} | "
                     f"{e['T_mean']['0.8']:.2f} | {e['T_mean']['0.9']:.2f} |")
    return lines


def rollout_section(out: Path, models: list[str]) -> list[str]:
    import xarray as xr

    lines = ["| model | rollouts | share finite | share with KE inside the truth's range "
             "(every frame) | share of frames inside | log-spectral error of time-mean E(k) |",
             "|---|---|---|---|---|---|"]
    found = False
    for name in models:
        path = out / "scores" / f"rollout_{name}.nc"
        if not path.exists():
            continue
        found = True
        r = xr.load_dataset(path)
        count = r.attrs.get("num_rollouts", r.sizes.get("sample", ""))
        lines.append(f"| {_label(name)} | {count} × {r.sizes.get('time', '')} frames | "
                     f"{float(r.share_finite):.2f} | {float(r.share_in_range):.2f} | "
                     f"{float(r.share_frames_in_range):.3f} | {float(r.log_spectral_error):.3f} |")
    return lines if found else ["Long rollouts: pending (benchmark.py stage rollouts)."]


def divergence_section(scores: dict) -> list[str]:
    """Ensemble divergence rate of each model next to the flow's leading Lyapunov exponent
    (solver twins at 128², the KF32 DNS grid: docs/figures/lyapunov_128/summary.json)."""
    summary_path = ROOT / "docs" / "figures" / "lyapunov_128" / "summary.json"
    if not summary_path.exists():
        return ["Lyapunov reference missing (rollflow lyapunov simulations/lyapunov_128.toml)."]
    summary = json.loads(summary_path.read_text())
    lam, std = summary["lyapunov_exponent_mean"], summary["lyapunov_exponent_std"]
    lines = ["| forecast | growth rate of the members' separation (1/t.u.) | ratio to λ₁ |",
             "|---|---|---|",
             f"| flow (jax-cfd twins at 128², `docs/figures/lyapunov_128`) | λ₁ = {lam:.3f} "
             f"± {std:.3f} | 1 |"]
    for name, skill in scores.items():
        if "ensemble_growth_rate" in skill:
            rate = float(skill.ensemble_growth_rate)
            lines.append(f"| {_label(name)} | {rate:.3f} | {rate / lam:.2f} |")
    lines += ["", "The members start from the same state, so their separation grows from the "
              "sampler's noise; the rate is fitted over the regime below half of saturation "
              "(`rollflow.analysis.separation_growth`, mean over test trajectories)."]
    return lines


def comparison_section(scores: dict, pairs=(("rolling", "standard"),
                                            ("rolling", "deterministic"))) -> list[str]:
    """Paired differences of T_c between models forecasting the same test states
    (`rollflow.analysis.paired_decorrelation_difference`, ensemble-mean curves)."""
    from rollflow.analysis import paired_decorrelation_difference

    lines = ["| comparison | network calls per frame | ΔT₀.₉₅ (t.u.) | ΔT₀.₉ (t.u.) "
             "| ΔT₀.₈ (t.u.) | share of resamples with the first longer at 0.8 |",
             "|---|---|---|---|---|---|"]
    found = False
    for a, b in pairs:
        if a not in scores or b not in scores:
            continue
        found = True
        curves = [scores[n].ensemble_mean_correlation.assign_coords(
            time=scores[n].lead_time.values).rename(time="lead_time") for n in (a, b)]
        diff = paired_decorrelation_difference(*curves, dim="lead_time")
        calls = " vs ".join(f"{scores[n].attrs.get('forecast_network_calls_per_frame', 0):.2f}"
                            for n in (a, b))
        cells = [f"{float(diff.estimate.sel(threshold=c)):+.2f} "
                 f"[{float(diff.lower.sel(threshold=c)):+.2f}, "
                 f"{float(diff.upper.sel(threshold=c)):+.2f}]" for c in (0.95, 0.9, 0.8)]
        share = float(diff.share_first_longer.sel(threshold=0.8))
        lines.append(f"| {_label(a)} − {_label(b)} | {calls} | {' | '.join(cells)} | "
                     f"{share:.3f} |")
    if not found:
        return ["Model comparisons: pending (both models' test scores are needed)."]
    return lines + ["", "Paired percentile bootstrap (1 000 resamples, seed 0): each resample "
                        "draws the same test trajectories for both models, so the interval "
                        "is that of the difference, not of either model."]


def render(out: Path, plan: dict) -> str:
    names = list(plan["models"]) + ["persistence"] + [f"solver_{s}" for s in plan["solvers"]]
    scores = _load_scores(out, names)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [START, "", "## The KF32 benchmark", "",
             f"Generated by `.venv/bin/python experiments/kf32/report.py` at commit "
             f"`{_commit()}`, {now}, on {platform.node() or 'this machine'} "
             f"({os.cpu_count()} CPU cores, no GPU). Inputs: `experiments/kf32/benchmark.py` "
             f"(plan `experiments/kf32/benchmark.toml`) and `experiments/kf32/ablate.py`.", "",
             "### Fixed-budget ablations (validation store, seed 500)", ""]
    lines += ablation_section(out)
    lines += ["", "### Learning curve of the rolling model (validation store)", ""]
    lines += curve_section(out)
    lines += ["", "### Test set: every model and the solver ladder (seed 1000)", ""]
    if scores:
        lines += main_table(scores) + [""] + figures(scores)
    else:
        lines.append("Test-set scores: pending (benchmark.py stages forecast … evaluate).")
    lines += ["", "### Model against model on the same test states", ""]
    lines += comparison_section(scores)
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
    block = render(args.out, load_toml(args.plan))
    text = DOC.read_text()
    if START in text and END in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)
    print(f"wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
