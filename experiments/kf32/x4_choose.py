"""The select and choose stages of experiments/kf32/x4.py. Select: symmetry members or
not for every run and shipped model, on validation. Choose: which model, at which
precision, goes to the test set — on the selection set (validation trajectories, seed 500,
3 states each), never on the test set, by issue 14's two acceptance readings against
jax-cfd measured side by side there: the single member's margin over the solvers' line at
its own cost, and the lower end of the paired interval of the 8-member mean against the
64² solver. The candidate whose worse reading is largest is chosen. Library calls only."""

from __future__ import annotations

import json
from pathlib import Path

from rollflow.training import load_trained
from rollflow.training.checkpoint import write_text_atomically
from rollflow.training.shipped import released_model
from x4_skill import choose_ema, skill_of
from x4_test import (candidates, forecast_models, model_path, say, score_stores,
                     solver_references)

SOLVERS = {"solver_32": "jax-cfd 32²", "solver_64": "jax-cfd 64²", "solver_128": "jax-cfd 128²"}


def select_stage(plan: dict, out: Path, store: Path) -> None:
    """Symmetry members off or on (8 members, validation T0.8 of the mean) for every trained
    run and shipped model (<out>/sampling/<name>.json); and the rolling model shipped before
    issue 14 (plan `before`: commit, name) on the learning curve's 4-member protocol."""
    validation = store / "validation.zarr"
    if not (path := out / "before_validation.json").exists():
        weights = released_model(*plan["before"], out / "released")
        write_text_atomically(path, json.dumps({"model": weights.stem, "validation": skill_of(
            load_trained(weights), validation, plan["validation"])}, indent=1))
    runs = [*(t for _, t, _ in plan["teachers"]), *(s for _, s, _ in plan["distill"]["runs"])]
    trained = [r for r in runs if (out / r / "ema_choice.json").exists()]
    for name in trained + list(plan.get("blend", {})) + plan["shipped"]:
        if (path := out / "sampling" / f"{name}.json").exists():
            continue
        model = (load_trained(out / name, ema_decay=choose_ema(out / name, plan, store)["chosen"])
                 if name in runs else load_trained(model_path(out, name)))
        scores = {f: skill_of(model, validation, plan["validation"], members=8,
                              symmetry_members=f == "on") for f in ("off", "on")}
        best = max(scores, key=lambda f: scores[f]["T_mean"]["0.8"])
        path.parent.mkdir(exist_ok=True)
        write_text_atomically(path, json.dumps({"symmetry_members": best == "on",
                                                "validation": scores}, indent=1))
        say(f"{name}: symmetry members {best} (T0.8 {scores['off']['T_mean']['0.8']:.2f} off, "
            f"{scores['on']['T_mean']['0.8']:.2f} on)")


def verdicts(scores_dir: Path, names: list[str]) -> dict:
    """worth_its_cost of every full-ensemble candidate, in t.u."""
    import xarray as xr

    from rollflow.analysis.readings import worth_its_cost

    scores = {p.stem: xr.load_dataset(p) for p in sorted(scores_dir.glob("*.nc"))}
    return {name: worth_its_cost(scores, name, SOLVERS, reference="solver_64")
            for name in names}


def choose_stage(plan: dict, out: Path, store: Path) -> dict:
    """The choice among the plan's candidates that are trained (ema_choice.json) or
    shipped, made again when that set changes (finished forecasts and scores are kept)."""
    from rollflow.training.shipped import shipped_models

    table = {n: e for n, e in candidates(plan).items()
             if (out / e[0] / "ema_choice.json").exists() or e[0] in shipped_models()
             or (out / f"{e[0]}.safetensors").is_file()}
    names = [n for n in table if not n.endswith("_m1")]
    path = out / "final_choice.json"
    if path.exists() and set((saved := json.loads(path.read_text()))["selection"]) == set(names):
        return saved
    truth, target = store / "selection_segments.zarr", out / "selection"
    forecast_models(table, truth, target / "forecasts", plan["test"], out)
    solver_references(plan, truth, target / "forecasts", store)
    score_stores(target / "forecasts", truth, target / "scores")
    found = verdicts(target / "scores", names)
    for name, v in found.items():
        say(f"choose {name}: single member {v['single_T']:.2f} t.u. at {v['single_cost']:.3g} "
            f"s/t.u. ({v['single_margin']:+.2f} over the line); {v['members']}-member mean − "
            f"64²: {v['ensemble_delta'][0]:+.2f} [{v['ensemble_delta'][1]:+.2f}, "
            f"{v['ensemble_delta'][2]:+.2f}]")
    chosen = max(found, key=lambda n: found[n]["worst"])
    run, _, precision = table[chosen]
    choice = {"chosen": chosen, "run": run, "precision": precision, "selection": found}
    write_text_atomically(path, json.dumps(choice, indent=1))
    say(f"choose: {chosen} (worse reading {found[chosen]['worst']:+.2f} t.u.)")
    return choice
