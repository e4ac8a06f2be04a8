"""Fixed-budget ablations of the KF32 rolling model, scored on the validation store.

    .venv/bin/python experiments/kf32/ablate.py [--only NAME ...] [--out runs/kf32/ablations]

Stages per variant (each skipped when its output exists, so the command resumes):
cost probe (all variants side by side, first) → training for budget / cost steps →
ensemble forecast of the validation store → headline skill (and each state's ensemble-mean ρ
curve, for `ablate_pairs.py`) → result.json. The K sweep
re-forecasts the sweep variant(s) at several steps per shift. summary.json collects every
variant's results in --out (also those of a second process run with --only).
Logic: rollflow (training.step_cost / train_until, forecast.scored_forecast); wiring here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _load_variants(path: Path) -> tuple[dict, dict]:
    from rollflow.configio import check_keys, load_toml, merge_mappings

    plan = load_toml(path)
    check_keys(plan, ("base", "budget_cpu_minutes", "common", "evaluate", "variants"), path.name)
    base = load_toml(HERE / plan["base"])
    configs = {name: merge_mappings(base, plan.get("common", {}), overrides)
               for name, overrides in plan["variants"].items()}
    return plan, configs


def _costs(names: list[str], configs: dict, data: Path, out: Path) -> dict:
    """CPU s per step of each variant, interleaved rounds, median (variants sharing a
    network share it, hence get exactly the same number of steps); cached in costs.json."""
    from rollflow.nets import build_network, count_parameters
    from rollflow.training import interleaved_step_costs, train_config_from_mapping

    path = out / "costs.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    if all(name in saved for name in names):
        return saved
    typed = {name: train_config_from_mapping(configs[name], where=name) for name in names}
    records = {}
    for name, rounds in interleaved_step_costs(typed, data).items():
        config, cpu = typed[name], sorted(rounds)[len(rounds) // 2]
        records[name] = {"cpu_seconds_per_step": cpu, "cost_rounds": rounds,
                         "batch_size": config.optim.batch_size,
                         "parameters": count_parameters(build_network(config.net,
                                                                      config.num_frames))}
        print(f"[ablate] {name}: {cpu:.3f} CPU s/step (rounds {rounds}), "
              f"{records[name]['parameters'] / 1e6:.2f} M parameters", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=1))
    return records


def _train(name: str, mapping: dict, steps: int, data: Path, out: Path) -> Path:
    from rollflow.configio import merge_mappings
    from rollflow.training import train_config_from_mapping, train_until

    config = train_config_from_mapping(merge_mappings(mapping, {"optim": {"total_steps": steps}}),
                                       where=name)
    print(f"[ablate] training {name}: {steps} steps", file=sys.stderr)
    train_until(config, data, out / name / "run")
    return out / name / "run"


def _score(run_dir: Path, validation: Path, evaluate: dict, steps_per_shift: int | None,
           seed: int = 0) -> dict:
    from rollflow.analysis.skill import skill_record
    from rollflow.forecast import ForecastSettings, frames_for_horizon, scored_forecast
    from rollflow.store import open_trajectories
    from rollflow.training import latest_progress, load_trained

    model = load_trained(run_dir)
    settings = ForecastSettings(init_index=evaluate["init_index"],
                                num_frames=frames_for_horizon(model, evaluate["frames"]),
                                num_members=evaluate["members"], seed=seed,
                                batch_size=evaluate["batch_size"],
                                steps_per_shift=steps_per_shift)
    _, skill = scored_forecast(model, open_trajectories(validation), settings, seed=seed)
    info = latest_progress(run_dir)[1]
    rows = skill["ensemble_mean_correlation"].transpose("sample", "time")   # for pairs; the
    lead = skill["mean_correlation"]["lead_time"]      # lead times (t.u.) of the same frames
    return {"step": model.step, "cpu_seconds": info.get("cpu_seconds"),
            "samples_seen": info.get("samples_seen"), **skill_record(skill),
            "ensemble_mean_rho": {"lead_time": lead.values.tolist(),
                                  "rows": rows.values.tolist()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", type=Path, default=HERE / "ablations.toml")
    parser.add_argument("--data", type=Path, default=ROOT / "data/kf32/train.zarr")
    parser.add_argument("--validation", type=Path, default=ROOT / "data/kf32/validation.zarr")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32/ablations")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these variants")
    parser.add_argument("--total-steps", type=int, metavar="N",
                        help="train every variant for N steps instead of budget / cost (for "
                             "variants of one network, run side by side in two processes)")
    args = parser.parse_args(argv)
    plan, configs = _load_variants(args.plan)
    names = args.only or list(configs)
    budget = 60.0 * float(plan["budget_cpu_minutes"])
    costs = (_costs(names, configs, args.data, args.out) if args.total_steps is None
             else {name: {"cpu_seconds_per_step": budget / args.total_steps} for name in names})
    evaluate = plan["evaluate"]
    summary = {}
    for name in names:
        path = args.out / name / "result.json"
        if not path.exists():
            steps = max(1, int(budget / costs[name]["cpu_seconds_per_step"]))
            run_dir = _train(name, configs[name], steps, args.data, args.out)
            record = {"variant": name, "overrides": plan["variants"][name], **costs[name],
                      "budget_cpu_seconds": budget, "total_steps": steps,
                      **_score(run_dir, args.validation, evaluate, None)}
            path.write_text(json.dumps(record, indent=1))
        summary[name] = json.loads(path.read_text())
        print(f"[ablate] {name}: T0.8 (ens. mean) {summary[name]['T_mean']['0.8']:.2f} "
              f"t.u.", file=sys.stderr)
    sweeps = evaluate.get("sweep_variant", [])      # one name or a list
    for sweep in [n for n in ([sweeps] if isinstance(sweeps, str) else sweeps) if n in names]:
        for k in evaluate.get("steps_per_shift", []):
            path = args.out / sweep / f"sweep_K{k}.json"
            if not path.exists():
                path.write_text(json.dumps({"steps_per_shift": k, **_score(
                    args.out / sweep / "run", args.validation, evaluate, k)}, indent=1))
    from rollflow.training.checkpoint import write_text_atomically
    for result in sorted(args.out.glob("*/*.json")):    # every variant, also another process's
        if result.name == "result.json" or result.name.startswith("sweep_K"):
            tail = "" if result.name == "result.json" else f"_{result.stem[6:]}"   # _K<k>
            key = result.parent.name + tail
            summary.setdefault(key, json.loads(result.read_text()))
    write_text_atomically(args.out / "summary.json", json.dumps(summary, indent=1))
    print(f"[ablate] wrote {args.out / 'summary.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
