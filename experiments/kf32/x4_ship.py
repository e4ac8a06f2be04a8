"""Ship issue 14's models with cards that state honest cost, from experiments/kf32/x4.py.

    .venv/bin/python experiments/kf32/x4_ship.py RUN NAME [--out runs/kf32x4]
        [--plan experiments/kf32/x4.toml] [--status TEXT]

RUN is a run of the plan, e.g. `more_k1` (its EMA as chosen on validation), or one of its
[blend] entries, and NAME the shipped name; or RUN = NAME, a shipped model whose card is
renewed (new test readings, the sampling chosen on validation), its weights and training
record kept. The card's test readings come from the x4 test scores (scores/<RUN>*.nc):
every reading with its members and the cost of all of them, the amortised cost (CPU-hours
of data + training + distillation, break-even against the solver of equal skill), and the
earlier card of NAME kept as history. Logic: rollflow (training.shipped, analysis.cost,
training.cards).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA_CPU_HOURS = 2 * 3465.7 / 3600
"""train128.zarr as measured: `rollflow simulate experiments/kf32/train128.toml --workers 2`
reported 3465.7 s wall (128 trajectories × 140 t.u., warm-up included; on this
machine); × 2 workers bounds the CPU time from above. (Earlier cards used the estimate
128 × 140 × 0.5 CPU-s = 2.49 CPU-h.)"""


def readings(out: Path, run: str, upfront_hours: float) -> list[dict]:
    """Every test reading of `run` with its members, precision, the cost of all its members
    and its break-even against the solvers' line (read once from the same test scores)."""
    import xarray as xr

    from rollflow.analysis.cost import break_even_time_units, reading_costs
    from rollflow.analysis.readings import line_of, solver_readings
    from rollflow.analysis.tables import reading

    scores = {p.stem: xr.load_dataset(p) for p in sorted((out / "scores").glob("*.nc"))}
    line = line_of(solver_readings(scores, {f"solver_{n}": "" for n in (32, 64, 128)}))
    rows = []
    for name in (f"{run}_m1", f"{run}_bf16_m1", f"{run}_m2", f"{run}_m4", run, f"{run}_bf16"):
        if name in scores:
            cost = reading_costs(scores[name].attrs)
            rows.append({"members": cost["members"],
                         "precision": scores[name].attrs.get("forecast_precision", "float32"),
                         "T08": list(reading(scores[name])),
                         "seconds_per_time_unit_all_members":
                             cost["seconds_per_time_unit_all_members"],
                         "calls_per_frame_all_members":
                             cost["calls_per_frame_per_member"] * cost["members"]})
            rows[-1]["break_even_time_units"] = break_even_time_units(
                upfront_hours * 3600, rows[-1]["seconds_per_time_unit_all_members"], line,
                rows[-1]["T08"][0])
    return rows


def cpu_hours(out: Path, run: str, plan_path: Path) -> dict:
    """CPU-hours of everything that produced `run`: the data, then each run it descends
    from (the plan's teachers, then distillations), oldest first; a first teacher warm-started
    from a shipped model adds that model's card (its data instead of DATA_CPU_HOURS)."""
    from rollflow.configio import load_toml
    from rollflow.training import latest_progress
    from rollflow.training.shipped import cpu_hours_by_stage, shipped_models

    plan = load_toml(plan_path)
    parent = {student: source for source, student, _ in plan["distill"]["runs"]}
    parent |= {later[1]: earlier[1] for earlier, later in zip(plan["teachers"],
                                                               plan["teachers"][1:])}
    parent |= {name: b for name, (_, b, _) in plan.get("blend", {}).items()}
    chain = [run]
    while chain[-1] in parent:
        chain.append(parent[chain[-1]])
    source = load_toml(HERE / plan["teachers"][0][0]).get("init", {}).get("weights")
    shipped = cpu_hours_by_stage(source) if source in shipped_models() else {}
    hours = {"data": shipped.pop("data", DATA_CPU_HOURS),
             **{f"{source} {stage}": h for stage, h in shipped.items()}}
    if "train_cpu_hours" in plan["data"]:     # a warm start's own (fine-tuning) store
        hours[f"{plan['data']['train']} data"] = plan["data"]["train_cpu_hours"]
    for name in reversed(chain):       # a blend (no run directory) costs seconds: 0
        hours[name] = (latest_progress(out / name)[1].get("cpu_seconds", 0.0) / 3600
                       if (out / name).is_dir() else 0.0)
    return hours


def precision(out: Path, run: str) -> str | None:
    """The precision of the network calls chosen on the selection set (final_choice.json of
    x4.py's choose stage) when `run` was the choice, else None (not chosen there)."""
    choice = out / "final_choice.json"
    chosen = json.loads(choice.read_text()) if choice.exists() else {}
    return chosen.get("precision") if chosen.get("run") == run else None


def main(argv=None) -> int:
    from rollflow.training.cards import models_page
    from rollflow.training import load_trained
    from rollflow.training.shipped import (WEIGHTS_DIR, export_model, read_model_card,
                                           recard_model, write_model)

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run")
    parser.add_argument("name")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32x4")
    parser.add_argument("--plan", type=Path, default=HERE / "x4.toml")
    parser.add_argument("--status", default="")
    args = parser.parse_args(argv)
    run_dir, history, old = args.out / args.run, [], None
    if (WEIGHTS_DIR / f"{args.name}.json").exists():
        old = read_model_card(args.name)
        history = old["card"].pop("history", []) + [{"step": old["step"], **old["card"]}]
    sampling = args.out / "sampling" / f"{args.run}.json"    # x4.py's select stage
    card = {"status": args.status, "history": history,
            "symmetry_members": json.loads(sampling.read_text())["symmetry_members"]
            if sampling.exists() else False,
            "test_store": "data/kf32/test_segments.zarr (16 trajectories × 3 states, seed 1000)",
            "precision": precision(args.out, args.run)}
    if run_dir.is_dir():        # a run of x4.toml: its weights at the EMA chosen on validation
        choice = json.loads((run_dir / "ema_choice.json").read_text())
        hours = cpu_hours(args.out, args.run, args.plan)
        card |= {"ema_decay": choice["chosen"], "validation": choice,
                 "cpu_hours_by_stage": hours, "cpu_hours": sum(hours.values()),
                 "test_readings": readings(args.out, args.run, sum(hours.values()))}
        export_model(run_dir, args.name, card=card, ema_decay=choice["chosen"])
    elif (blend := args.out / f"{args.run}.safetensors").is_file():   # a [blend] of the plan
        hours = cpu_hours(args.out, args.run, args.plan)
        card |= {"blend": json.loads(blend.with_suffix(".json").read_text())["card"]["blend"],
                 "cpu_hours_by_stage": hours, "cpu_hours": sum(hours.values()),
                 "test_readings": readings(args.out, args.run, sum(hours.values()))}
        model = load_trained(blend)
        write_model(args.name, model.network.state_dict(), config=model.config,
                    stats=model.stats, grid_size=model.grid_size, step=model.step, card=card)
    elif old is not None and args.run == args.name:     # the shipped weights, a new card
        kept = {k: old["card"][k] for k in ("ema_decay", "validation", "cpu_hours_by_stage",
                                            "cpu_hours") if k in old["card"]}
        card |= kept | {"test_readings": readings(args.out, args.run, kept["cpu_hours"])}
        recard_model(args.name, card)
    else:
        raise SystemExit(f"{run_dir} is not a run, nor is {args.run!r} the shipped {args.name!r}")
    (ROOT / "docs/models.md").write_text(models_page())
    print(f"shipped {args.name} from {args.run}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
