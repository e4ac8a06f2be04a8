"""A results page from any set of scored forecasts (`rollflow report`, issue 16).

From `headline_skill` Datasets of the same states (name → Dataset, as `rollflow evaluate
--out` writes them) it writes, into one directory: `report.md` with the headline table —
each forecaster's single-member and ensemble-mean readings with the cost of all the members
each averages, the margin over the solvers' line when ≥ 2 solvers are scored — the "no
skill" references, the paired comparisons (ΔT_c of two ensemble means on the same states,
bootstrap by trajectory) and the scorecard against a baseline; `lead_time.png` (ρ, RMSE, CRPS,
spread–skill with the references); `scorecard.png`; and `pareto.png` (skill against honest
cost). Each forecaster's role comes from its attrs: `forecast_mode` "solver" (labelled
"<solver> <grid>²"), "persistence" or a climatology (references), anything else a model.
Stores named `<name>_m<M>` beside `<name>` are its M-member subsets (or, M = 1, its
one-member run): readings of that model at M members, not forecasters of their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from rollflow.analysis.plots import plot_pareto, save_figure
from rollflow.analysis.readings import (ensemble_readings, line_of, pareto_points,
                                        readings_table, solver_readings)
from rollflow.analysis.scorecard import (SCORECARD_METRICS, plot_lead_panels, plot_scorecard,
                                         scorecard)
from rollflow.analysis.tables import paired_table, reference_table
from rollflow.conventions import LEAD_TIME
from rollflow.errors import DataError

__all__ = ["role_of", "label_of", "evaluation_grid", "subset_of", "report_page", "embedded",
           "report_command"]

SOLVER_NAMES = {"jaxcfd": "jax-cfd", "exponax": "exponax"}


def role_of(skill: xr.Dataset) -> str:
    """"solver", "reference" (persistence, climatologies) or "model", from the attrs."""
    mode = str(skill.attrs.get("forecast_mode", ""))
    if mode == "solver":
        return "solver"
    return "reference" if mode == "persistence" or "climatology" in mode else "model"


def label_of(name: str, skill: xr.Dataset) -> str:
    """A solver's "<solver> <grid>²" (its backend and grid from the attrs), else `name`."""
    if role_of(skill) != "solver" or "forecast_simulation_size" not in skill.attrs:
        return name
    backend = str(skill.attrs.get("forecast_solver_backend", "jaxcfd"))
    return f"{SOLVER_NAMES.get(backend, backend)} {int(skill.attrs['forecast_simulation_size'])}²"


def subset_of(name: str, names) -> str | None:
    """The forecaster whose M-member subset `name` (`<forecaster>_m<M>`) is, when that
    forecaster is among `names`; else None."""
    match = re.fullmatch(r"(.+)_m(\d+)", name)
    return match.group(1) if match and match.group(1) in names else None


def evaluation_grid(skill: xr.Dataset) -> int:
    """The grid the scores were computed on (attr `grid_size`; older score stores: from the
    number of spectrum shells, which is fixed by the grid)."""
    if "grid_size" in skill.attrs:
        return int(skill.attrs["grid_size"])
    return -int(skill["energy_spectrum_truth"].sizes["k"])


def _default_leads(scores: Mapping[str, xr.Dataset]) -> list[float]:
    end = min(float(s["mean_correlation"][LEAD_TIME].max()) for s in scores.values())
    start = max(float(s["mean_correlation"][LEAD_TIME].min()) for s in scores.values())
    leads = [v for v in (0.2, 0.5, 1, 2, 3, 4, 6, 8, 10, 15, 20) if start <= v <= end]
    return leads or [start]


def _checked_pairs(scores: Mapping[str, xr.Dataset], pairs, default) -> list[tuple[str, str]]:
    for pair in pairs or ():
        if missing := [n for n in pair if n not in scores]:
            raise DataError(f"pair {pair[0]!r} − {pair[1]!r}: {', '.join(map(repr, missing))} "
                            f"is not among the scores ({', '.join(scores)})")
    return list(pairs) if pairs is not None else default


def _scorecard_rows(card: xr.DataArray, labels: Mapping[str, str],
                    leads: Sequence[float]) -> list[str]:
    lines = ["| forecaster | metric | " + " | ".join(f"{v:g}" for v in leads) + " |",
             "|---|---|" + "---|" * len(leads)]
    for name in card["forecaster"].values:
        for metric in SCORECARD_METRICS:
            cells = card.sel(forecaster=name, metric=metric).values
            lines.append(f"| {labels[str(name)]} | {SCORECARD_METRICS[metric]} | "
                         + " | ".join("—" if not np.isfinite(v) else f"{v:+.1f} %"
                                      for v in cells) + " |")
    return lines


def report_page(scores: Mapping[str, xr.Dataset], directory: str | Path, *,
                baseline: str | None = None, leads: Sequence[float] | None = None,
                pairs: Sequence[tuple[str, str]] | None = None,
                labels: Mapping[str, str] | None = None,
                title: str = "Forecast report") -> list[Path]:
    """Write report.md and its figures for `scores` into `directory` (see the module
    docstring); `baseline` (default: the first model) anchors the scorecard; `pairs` (first,
    second) are compared on the same states (default: every other model against the
    baseline); `labels` (name → text) replace names in tables and legends. Returns the paths
    written. DataError for no scores, scores of different evaluation grids, or a pair
    naming a forecaster that is not scored."""
    if not scores:
        raise DataError("no scores to report")
    grids = {name: evaluation_grid(s) for name, s in scores.items()}
    if len(set(grids.values())) > 1:
        raise DataError("the scores were computed on different evaluation grids ("
                        + ", ".join(f"{n}: {abs(g)}{'' if g > 0 else ' shells'}"
                                    for n, g in grids.items()) + "); report one grid at a time")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    shown = {n: s for n, s in scores.items() if subset_of(n, scores) is None}
    roles = {n: role_of(s) for n, s in shown.items()}
    labels = {n: label_of(n, s) for n, s in shown.items()} | {
        n: text for n, text in (labels or {}).items() if n in shown}
    models = [n for n in shown if roles[n] == "model"]
    baseline = baseline or (models[0] if models else next(iter(shown)))
    leads = list(leads) if leads else _default_leads(shown)
    solvers = sorted(solver_readings(scores, {n: labels[n] for n in shown
                                              if roles[n] == "solver"}), key=lambda r: r.cost)
    readings = [r for n in models for r in ensemble_readings(scores, n, labels[n])]
    persistence = solver_readings(shown, {n: labels[n] for n in shown if str(
        shown[n].attrs.get("forecast_mode")) == "persistence"})
    line = line_of(solvers)
    card = scorecard(shown, baseline, leads)
    pairs = _checked_pairs(shown, pairs, [(m, baseline) for m in models if m != baseline])
    lines = [f"# {title}", "", f"Evaluation grid {abs(next(iter(grids.values())))}²; "
             f"{len(shown)} scored forecasts of the same states. Costs are seconds per "
             "simulated t.u. per trajectory for **all** the members a reading averages.", "",
             "## Headline", "", *readings_table(readings + solvers, line), ""]
    references = {labels[n]: shown[n] for n in shown if roles[n] == "reference"}
    if references:
        lines += ["## No-skill references", "", *reference_table(references), ""]
    if compared := paired_table({labels[n]: s for n, s in shown.items()},
                                [(labels[a], labels[b]) for a, b in pairs]):
        lines += ["## Paired comparisons on the same states", "", *compared, "",
                  "ΔT (first − second) of the ensemble means; 95 % paired bootstrap (1 000 "
                  "resamples, seed 0) that draws the same trajectories for both.", ""]
    lines += [f"## Scorecard against {labels[baseline]}", "",
              "100 (m − b)/b at each lead (t.u.); negative is better than the baseline.", "",
              *_scorecard_rows(card, labels, leads)]
    lines += ["", "![lead time](lead_time.png)", "![scorecard](scorecard.png)",
              "![skill against honest cost](pareto.png)", ""]
    paths = [save_figure(plot_lead_panels(shown, roles, labels), directory / "lead_time.png"),
             save_figure(plot_scorecard(card, labels), directory / "scorecard.png"),
             save_figure(plot_pareto(pareto_points(readings, solvers, persistence)),
                         directory / "pareto.png")]
    page = directory / "report.md"
    page.write_text("\n".join(lines))
    return [page, *paths]


def embedded(page: str, link_prefix: str, depth: int = 1) -> list[str]:
    """The lines of a report page for inclusion in another markdown document: its title
    dropped, every heading `depth` levels deeper, relative figure links prefixed by
    `link_prefix` (the page's folder as seen from the document)."""
    lines = page.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    out = []
    for line in lines:
        if line.startswith("#"):
            line = "#" * depth + line
        elif line.startswith("![") and "](" in line and "://" not in line:
            head, link = line.split("](", 1)
            line = f"{head}]({link_prefix}{link}"
        out.append(line)
    return out


def report_command(scores_dir: str, names: Sequence[str], out: str, *, title: str | None = None,
                   baseline: str | None = None, pairs: Sequence[tuple[str, str]] = ()) -> str:
    """The `rollflow report` command line that writes the page `report_page` makes from the
    score stores `scores_dir`/<name>.nc with these options (shell syntax: one brace list)."""
    stores = (f"{scores_dir}/{{{','.join(names)}}}.nc" if len(names) > 1
              else f"{scores_dir}/{names[0]}.nc")
    return " ".join(["rollflow report", stores, f"--out {out}",
                     *([f"--title '{title}'"] if title else []),
                     *([f"--baseline {baseline}"] if baseline else []),
                     *(f"--pair {a} {b}" for a, b in pairs)])
