"""Markdown tables of scores, for results pages: each row says members and the cost of all
of them (METHOD.md §5), each T_c its 95 % interval.

Inputs are `headline_skill` Datasets (with the forecast's `forecast_*` cost attrs) keyed by
a display label; outputs are lists of markdown lines. `replace_block` swaps a generated
section of a page between two marker comments, leaving the rest of the page alone.
Pure xarray and strings; no files are read here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence

import xarray as xr

from rollflow.analysis.cost import reading_costs
from rollflow.analysis.decorrelation import paired_decorrelation_difference
from rollflow.conventions import LEAD_TIME, TIME, TRAJECTORY
from rollflow.errors import DataError

__all__ = ["reading", "interval_text", "replace_block", "skill_table", "paired_difference",
           "paired_table", "learning_curve_table", "ema_table", "reference_table",
           "rollout_table", "divergence_table", "ablation_table"]


def reading(skill: xr.Dataset, kind: str = "mean", threshold: float = 0.8
            ) -> tuple[float, float, float]:
    """(estimate, lower, upper) of a T_c reading, t.u.; kind "mean" (ensemble mean) or
    "member" (single member)."""
    return tuple(float(skill[f"decorrelation_{kind}_{part}"].sel(threshold=threshold))
                 for part in ("estimate", "lower", "upper"))


def interval_text(values: Sequence[float], signed: bool = False) -> str:
    """"4.06 [3.87, 4.28]" (with `signed`, "+0.31 [+0.10, +0.52]")."""
    f = "{:+.2f}" if signed else "{:.2f}"
    return f"{f.format(values[0])} [{f.format(values[1])}, {f.format(values[2])}]"


def replace_block(text: str, start: str, end: str, block: str) -> str:
    """`text` with the part from marker `start` to marker `end` (inclusive) replaced by
    `block` (which should carry both markers); appended when the markers are absent."""
    if start in text and end in text:
        if text.index(end) < text.index(start):
            raise DataError(f"marker {end!r} comes before {start!r}")
        return text[:text.index(start)] + block + text[text.index(end) + len(end):]
    return text.rstrip() + "\n\n" + block + "\n"


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def skill_table(scores: Mapping[str, xr.Dataset]) -> list[str]:
    """One row per forecast: members M, T₀.₉₅ / T₀.₉ / T₀.₈ of the ensemble mean (95 % CI),
    the single-member T₀.₈ (M > 1), ρ at the headline leads, log-spectral error, network
    calls per frame per member, and seconds per t.u. per trajectory of one member and of
    all M members (the ensemble-mean reading's cost)."""
    lines = [_row(["forecast", "members", "T₀.₉₅ (t.u.)", "T₀.₉ (t.u.)", "T₀.₈ (t.u.)",
                   "T₀.₈ single member", "ρ at the leads", "log-spectral error",
                   "network calls per frame per member", "s per t.u., one member",
                   "s per t.u., all members"]), "|---" * 11 + "|"]
    for label, skill in scores.items():
        cost = reading_costs(skill.attrs)
        members = cost["members"]
        calls = cost["calls_per_frame_per_member"]
        lines.append(_row([
            label, str(members),
            *(interval_text(reading(skill, "mean", c)) for c in (0.95, 0.9, 0.8)),
            interval_text(reading(skill, "member")) if members > 1 else "—",
            " / ".join(f"{v:.3f}" for v in skill.correlation_at_leads.values),
            f"{float(skill.log_spectral_error):.3f}" if "log_spectral_error" in skill else "—",
            f"{calls:.2f}" if calls > 0 else "—",
            f"{cost['seconds_per_time_unit_one_member']:.3g}",
            f"{cost['seconds_per_time_unit_all_members']:.3g}"]))
    return lines


def _calls_text(skill: xr.Dataset) -> str:
    """Network calls per frame per member, "—" for a forecaster without a network."""
    calls = reading_costs(skill.attrs)["calls_per_frame_per_member"]
    return f"{calls:.2f}" if calls > 0 else "—"


def _lead_curve(skill: xr.Dataset, clusters: xr.Dataset) -> xr.DataArray:
    curve = skill.ensemble_mean_correlation
    if TIME in curve.dims:
        curve = curve.assign_coords({TIME: skill[LEAD_TIME].values}).rename({TIME: LEAD_TIME})
    if TRAJECTORY in clusters.coords:
        curve = curve.assign_coords({TRAJECTORY: clusters[TRAJECTORY]})
    return curve


def paired_difference(scores: Mapping[str, xr.Dataset], a: str, b: str, *,
                      seed: int = 0) -> xr.Dataset:
    """ΔT_c = T_c(a) − T_c(b) of two ensemble means scored on the same states (t.u.):
    `estimate`, `lower`, `upper` (95 % paired bootstrap, whole trajectories when the scores
    carry a `trajectory` coordinate) and `share_first_longer`, each over `threshold`."""
    curves = [_lead_curve(scores[n], scores[a]) for n in (a, b)]
    return paired_decorrelation_difference(*curves, dim=LEAD_TIME, seed=seed)


def paired_table(scores: Mapping[str, xr.Dataset], pairs: Sequence[tuple[str, str]], *,
                 seed: int = 0) -> list[str]:
    """ΔT_c (first − second) of the ensemble means of two forecasts of the same states, with
    paired bootstrap intervals (whole trajectories resampled when the scores carry a
    `trajectory` coordinate), and the share of resamples in which the first lasts longer.
    Pairs with a missing side are skipped; no pair at all gives an empty list."""
    lines = [_row(["comparison (same states)", "network calls per frame", "ΔT₀.₉₅ (t.u.)",
                   "ΔT₀.₉ (t.u.)", "ΔT₀.₈ (t.u.)", "share with the first longer at 0.8"]),
             "|---" * 6 + "|"]
    for a, b in pairs:
        if a not in scores or b not in scores:
            continue
        diff = paired_difference(scores, a, b, seed=seed)
        calls = " vs ".join(_calls_text(scores[n]) for n in (a, b))
        cells = [interval_text([float(diff[p].sel(threshold=c))
                                for p in ("estimate", "lower", "upper")], signed=True)
                 for c in (0.95, 0.9, 0.8)]
        lines.append(_row([f"{a} − {b}", calls, *cells,
                           f"{float(diff.share_first_longer.sel(threshold=0.8)):.3f}"]))
    return lines if len(lines) > 2 else []


def learning_curve_table(curve: Sequence[Mapping]) -> list[str]:
    """Rows of a learning curve: step, samples seen, CPU-hours, validation T₀.₈ and T₀.₉ of
    the ensemble mean (entries with keys step, samples_seen, cpu_hours, T_mean)."""
    lines = [_row(["step", "samples seen", "CPU-hours", "T₀.₈ validation (t.u.)", "T₀.₉"]),
             "|---" * 5 + "|"]
    for e in curve:
        lines.append(_row([str(e["step"]), str(e.get("samples_seen", "—")),
                           f"{e['cpu_hours']:.2f}", f"{e['T_mean']['0.8']:.2f}",
                           f"{e['T_mean']['0.9']:.2f}"]))
    return lines


def ema_table(choices: Mapping[str, Mapping]) -> list[str]:
    """Rows of every kept EMA of every run on validation, the chosen one marked. `choices`:
    run → {"chosen": decay, "step", "cpu_hours", "validation": {decay: {"T_mean",
    "T_member"}}} (as experiments/kf32/x4.py writes them)."""
    lines = [_row(["run", "EMA decay", "T₀.₈ validation (ens. mean)", "single member",
                   "chosen"]), "|---" * 5 + "|"]
    for run, choice in choices.items():
        for decay, s in choice["validation"].items():
            lines.append(_row([f"{run} (step {choice['step']}, {choice['cpu_hours']:.2f} CPU-h)",
                               decay, f"{s['T_mean']['0.8']:.2f}", f"{s['T_member']['0.8']:.2f}",
                               "✓" if float(decay) == choice["chosen"] else ""]))
    return lines


def reference_table(scores: Mapping[str, xr.Dataset]) -> list[str]:
    """The "no skill" references (cost 0): members, T₀.₉₅, T₀.₈ (95 % CI) and the RMSE and
    CRPS they saturate at (last lead)."""
    lines = [_row(["reference (cost 0)", "members", "T₀.₉₅", "T₀.₈ [95 % CI]",
                   "RMSE at the last lead", "CRPS at the last lead"]), "|---" * 6 + "|"]
    for label, s in scores.items():
        crps = f"{float(s.crps.isel({TIME: -1})):.3f}" if "crps" in s else "—"
        rmse = float(s.rmse.isel({TIME: -1})) if "rmse" in s else math.nan
        lines.append(_row([label, str(reading_costs(s.attrs)["members"]),
                           f"{reading(s, 'mean', 0.95)[0]:.2f}", interval_text(reading(s)),
                           f"{rmse:.3f}", crps]))
    return lines


def rollout_table(rollouts: Mapping[str, xr.Dataset]) -> list[str]:
    """Long-rollout stability (`rollout_stability` Datasets by label): rollouts × frames,
    share finite, share with the kinetic energy inside the truth's range at every frame,
    share of frames inside, log-spectral error of the time-mean spectrum."""
    lines = [_row(["model", "rollouts", "share finite", "share with KE inside the truth's "
                   "range (every frame)", "share of frames inside",
                   "log-spectral error of time-mean E(k)"]), "|---" * 6 + "|"]
    for label, r in rollouts.items():
        count = r.attrs.get("num_rollouts", r.sizes.get("sample", ""))
        lines.append(_row([label, f"{count} × {r.sizes.get(TIME, '')} frames",
                           f"{float(r.share_finite):.2f}", f"{float(r.share_in_range):.2f}",
                           f"{float(r.share_frames_in_range):.3f}",
                           f"{float(r.log_spectral_error):.3f}"]))
    return lines


def divergence_table(scores: Mapping[str, xr.Dataset], exponent: float, spread: float,
                     reference: str) -> list[str]:
    """Growth rate of the members' separation (`ensemble_growth_rate`, 1/t.u.) of each
    forecast that has one, next to the flow's leading Lyapunov exponent λ₁ ± `spread`
    (measured as `reference` says) and as a ratio to it."""
    lines = [_row(["forecast", "growth rate of the members' separation (1/t.u.)",
                   "ratio to λ₁"]), "|---" * 3 + "|",
             _row([f"flow ({reference})", f"λ₁ = {exponent:.3f} ± {spread:.3f}", "1"])]
    for label, skill in scores.items():
        if "ensemble_growth_rate" in skill:
            rate = float(skill.ensemble_growth_rate)
            lines.append(_row([label, f"{rate:.3f}", f"{rate / exponent:.2f}"]))
    return lines


def _estimates(record: Mapping, kind: str = "mean") -> Mapping:
    return record.get(f"T_{kind}", record.get(f"T_{kind}_estimate"))  # older records


def _record_interval(record: Mapping, threshold: str = "0.8") -> str:
    return interval_text([_estimates(record)[threshold], record["T_mean_lower"][threshold],
                          record["T_mean_upper"][threshold]])


def ablation_table(summary: Mapping[str, Mapping]) -> list[str]:
    """Fixed-budget ablation records (variant → `skill_record` fields plus overrides,
    parameters, cpu_seconds_per_step, total_steps, batch_size; `<variant>_K<k>` entries
    re-sample one variant at k steps per shift and form a second table)."""
    calls = lambda r: r.get("network_calls_per_frame", r.get("calls_per_frame", math.nan))
    lines = [_row(["variant", "overrides", "parameters", "CPU s per step", "steps × batch",
                   "T₀.₈ ens. mean [95 % CI]", "T₀.₉", "ρ at 0.2 / 1 / 2 t.u.",
                   "calls per frame"]), "|---" * 9 + "|"]
    for name, r in summary.items():
        if "_K" not in name:
            lines.append(_row([
                name, f"`{json.dumps(r['overrides'])}`", f"{r['parameters'] / 1e6:.2f} M",
                f"{r['cpu_seconds_per_step']:.3f}", f"{r['total_steps']} × {r['batch_size']}",
                _record_interval(r), f"{_estimates(r)['0.9']:.2f}",
                " / ".join(f"{v:.3f}" for v in r["rho_at"].values()), f"{calls(r):.2f}"]))
    sweep = {k: v for k, v in summary.items() if "_K" in k}
    if sweep:
        lines += ["", _row(["sampling", "steps per shift K", "network calls per frame",
                            "T₀.₈ ens. mean [95 % CI]", "T₀.₉", "s per t.u. per trajectory"]),
                  "|---" * 6 + "|"]
        lines += [_row([name, str(r["steps_per_shift"]), f"{calls(r):.2f}", _record_interval(r),
                        f"{_estimates(r)['0.9']:.2f}", f"{r['seconds_per_time_unit']:.3f}"])
                  for name, r in sweep.items()]
    return lines
