"""Readings on the (cost, skill) plane, each at the cost of everything that produced it.

A forecaster scored with M members gives one reading per ensemble size it was scored at:
M = 1 (a real one-member forecast when one was scored, else the single-member reading of
the full ensemble), the M-member subsets, and the full ensemble; each costs M × the
per-member seconds per t.u. (METHOD.md §5). Solvers are single readings that form the
reference line (`rollflow.analysis.cost.solver_line`). `readings_table` prints them with
their margin over that line; `pareto_points` feeds `plot_pareto`.

Scores are `headline_skill` Datasets keyed by name; subsets are named `<name>_m<M>`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import xarray as xr

from rollflow.analysis.cost import reading_costs, skill_margin, solver_line
from rollflow.analysis.tables import interval_text, paired_difference, reading
from rollflow.errors import DataError

__all__ = ["Reading", "ensemble_readings", "solver_readings", "line_of", "readings_table",
           "pareto_points", "worth_its_cost", "verdicts_table"]


@dataclasses.dataclass(frozen=True)
class Reading:
    """One point: `skill` read as `kind` ("mean": ensemble mean, "member": single member)
    at T_c `T` = (estimate, lower, upper) t.u., costing `cost` s per t.u. per trajectory for
    all `members`; `calls` network calls per frame per member (NaN for solvers)."""

    name: str
    label: str
    members: int
    T: tuple[float, float, float]
    cost: float
    calls: float
    skill: xr.Dataset
    kind: str = "mean"


def ensemble_readings(scores: Mapping[str, xr.Dataset], name: str, label: str,
                      threshold: float = 0.8) -> list[Reading]:
    """The M = 1, subset and full-ensemble readings of forecaster `name` (empty when it was
    not scored), sorted by members."""
    if name not in scores:
        return []
    full = scores[name]
    cost = reading_costs(full.attrs)
    per_member, calls = cost["seconds_per_time_unit_one_member"], cost[
        "calls_per_frame_per_member"]
    one = scores.get(f"{name}_m1")
    if one is not None:            # a real one-member forecast: its own reading and cost
        found = [Reading(name, label, 1, reading(one, "mean", threshold),
                         reading_costs(one.attrs)["seconds_per_time_unit_all_members"],
                         calls, one)]
    else:                          # the single-member reading of the full ensemble
        found = [Reading(name, label, 1, reading(full, "member", threshold), per_member,
                         calls, full, "member")]
    for m in range(2, cost["members"]):
        if f"{name}_m{m}" in scores:
            found.append(Reading(name, label, m, reading(scores[f"{name}_m{m}"], "mean",
                                                         threshold), m * per_member, calls,
                                 scores[f"{name}_m{m}"]))
    if cost["members"] > 1:
        found.append(Reading(name, label, cost["members"], reading(full, "mean", threshold),
                             cost["seconds_per_time_unit_all_members"], calls, full))
    return found


def solver_readings(scores: Mapping[str, xr.Dataset], labels: Mapping[str, str],
                    threshold: float = 0.8) -> list[Reading]:
    """One reading per scored solver (name → label), one member each."""
    return [Reading(n, label, 1, reading(scores[n], "mean", threshold),
                    reading_costs(scores[n].attrs)["seconds_per_time_unit_all_members"],
                    math.nan, scores[n]) for n, label in labels.items() if n in scores]


def line_of(solvers: Sequence[Reading]):
    """The solvers' line through their finite readings, or None with fewer than two."""
    finite = [r for r in solvers if math.isfinite(r.T[0]) and r.cost > 0]
    if len(finite) < 2:
        return None
    return solver_line([r.cost for r in finite], [r.T[0] for r in finite])


def readings_table(readings: Sequence[Reading], line=None) -> list[str]:
    """Markdown rows: label, members M, network calls per frame (all M), s per t.u. (all M),
    T₀.₉₅, T₀.₉, T₀.₈ [95 % CI] of the reading, and T₀.₈ minus the solver line at that cost
    (positive: worth its cost; "—" without a line)."""
    lines = ["| forecaster | members M | network calls per frame (all M) | s per t.u. per "
             "trajectory (all M) | T₀.₉₅ | T₀.₉ | T₀.₈ [95 % CI] | T₀.₈ − solver line at "
             "that cost |", "|---|---|---|---|---|---|---|---|"]
    for r in readings:
        t95, t9 = (reading(r.skill, r.kind, c)[0] for c in (0.95, 0.9))
        calls = "—" if math.isnan(r.calls) else f"{r.calls * r.members:.2f}"
        margin = "—" if line is None else f"{skill_margin(line, r.cost, r.T[0]):+.2f}"
        lines.append(f"| {r.label} | {r.members} | {calls} | {r.cost:.3g} | {t95:.2f} | "
                     f"{t9:.2f} | {interval_text(r.T)} | {margin} |")
    return lines


def pareto_points(readings: Sequence[Reading], solvers: Sequence[Reading],
                  singles: Sequence[Reading] = ()) -> xr.Dataset:
    """Points for `plot_pareto`: the solvers as lines, one per solver (labels "<solver>
    <grid>", e.g. "jax-cfd 64²" and "exponax 64²": grouped by what precedes the grid), each
    forecaster's readings as one curve over M (labelled "M=…"), and `singles` (e.g.
    persistence at cost 0) as points."""
    items = [(r, "solver", r.label.rsplit(" ", 1)[0] if " " in r.label else "solvers",
              r.label) for r in solvers]
    items += [(r, "ensemble", r.label, f"M={r.members}") for r in readings]
    items += [(r, "model", "", r.label) for r in singles]
    column = lambda values: ("model", list(values))
    return xr.Dataset(
        {"cost": column(r.cost for r, *_ in items),
         **{part: column(r.T[i] for r, *_ in items)
            for i, part in enumerate(("estimate", "lower", "upper"))},
         "kind": column(k for _, k, _, _ in items),
         "group": column(g for _, _, g, _ in items),
         "label": column(text for *_, text in items)},
        coords={"model": [f"{r.label} {text}" if kind == "ensemble" else r.label
                          for r, kind, _, text in items]})


def worth_its_cost(scores: Mapping[str, xr.Dataset], name: str, solvers: Mapping[str, str],
                   reference: str, threshold: float = 0.8, seed: int = 0) -> dict:
    """Forecaster `name` against the solvers (METHOD.md §5), in t.u.:

    - `single_margin`: its single-member T_c minus the solvers' line at that member's cost
      (the M = 1 reading of `ensemble_readings`; > 0: the single member is worth its cost);
    - `ensemble_delta`: (estimate, lower, upper) of T_c(ensemble mean) − T_c(`reference`)
      paired on the same states (e.g. the 64² solver);
    - `worst`: the smaller of `single_margin` and the interval's lower end (> 0: both hold).
    """
    line = line_of(solver_readings(scores, solvers, threshold))
    if line is None or name not in scores or reference not in scores:
        raise DataError(f"{name!r}, {reference!r} and ≥ 2 solvers must all be scored")
    one = ensemble_readings(scores, name, name, threshold)[0]
    diff = paired_difference(scores, name, reference, seed=seed).sel(threshold=threshold)
    delta = tuple(float(diff[p]) for p in ("estimate", "lower", "upper"))
    margin = skill_margin(line, one.cost, one.T[0])
    return {"single_T": one.T[0], "single_cost": one.cost, "single_margin": margin,
            "members": reading_costs(scores[name].attrs)["members"], "ensemble_delta": delta,
            "worst": min(margin, delta[1])}


def verdicts_table(verdicts: Mapping[str, Mapping], labels: Mapping[str, str] | None = None,
                   chosen: str = "", reference: str = "reference") -> list[str]:
    """Markdown rows of `worth_its_cost` results (name → verdict): the single member's T₀.₈,
    its cost and margin over the solver line, the paired ensemble-mean difference against
    the reference, and a mark on `chosen`."""
    lines = ["| candidate | single member T₀.₈ | s per t.u. | − solver line | M-member mean − "
             f"{reference} (ΔT₀.₈) | chosen |", "|---|---|---|---|---|---|"]
    for name, v in verdicts.items():
        lines.append(f"| {(labels or {}).get(name, name)} | {v['single_T']:.2f} | "
                     f"{v['single_cost']:.3g} | {v['single_margin']:+.2f} | M = {v['members']}: "
                     f"{interval_text(v['ensemble_delta'], signed=True)} | "
                     f"{'✓' if name == chosen else ''} |")
    return lines

