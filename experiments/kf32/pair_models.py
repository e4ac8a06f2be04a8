"""Paired validation comparison of trained models on the same states.

    .venv/bin/python experiments/kf32/pair_models.py runs/x/student kf32-rolling-k1 \\
        --out runs/pairs/k1.json [--members 4] [--init-index 2] [--frames 50] \
        [--validation data/kf32/validation_long.zarr --segments 0 50 100] [--steps-per-shift K]
        [--symmetry-members]

Each model (a run directory, `RUN@EMA` for one of its kept EMAs, a shipped name, or
`solver:N` for the store's solver on an N² grid, one member) forecasts the validation store
(seed 0, float32); each state's ensemble-mean ρ curve is
cached in --out (a JSON keyed by model and settings, so a rerun adds only new models). Prints
every model's T₀.₈ (ensemble mean and single member) and T₀.₈(model) − T₀.₈(first model)
with a 95 % paired bootstrap over the states (1 000 resamples). With --segments, the states
are cut from those frames of every trajectory (segments of --segment-frames, in memory) and
the bootstrap resamples whole trajectories (clusters). Skill only: costs are
measured side by side on an idle box by the benchmarks, not here.
Logic: rollflow (forecast.scored_forecast, analysis.decorrelation); wiring here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _states(args: argparse.Namespace):
    """The validation trajectories, or their segments (with a `trajectory` coordinate)."""
    from rollflow.store import cut_segments, open_trajectories

    source = open_trajectories(args.validation)
    if not args.segments:
        return source
    return cut_segments(source, starts=args.segments, num_frames=args.segment_frames,
                        source_name=str(args.validation))


def _record(skill) -> dict:
    from rollflow.analysis.skill import skill_record

    rows = skill["ensemble_mean_correlation"].transpose("sample", "time")
    lead = skill["mean_correlation"]["lead_time"]      # lead times (t.u.) of the same frames
    return {**skill_record(skill), "lead_time": lead.values.tolist(),
            "rows": rows.values.tolist()}


def _score_solver(size: int, states, args: argparse.Namespace) -> dict:
    from rollflow.analysis.skill import headline_skill
    from rollflow.baselines import solver_forecast
    from rollflow.store import read_spec

    values = states["vorticity"].load()
    result = solver_forecast(values, read_spec(args.validation), init_index=args.init_index,
                             num_frames=args.frames, simulation_size=size,
                             source_attrs=states.attrs)
    skill = headline_skill(result["vorticity"], values, seed=0).compute()
    skill.attrs.update({k: v for k, v in result.attrs.items() if k.startswith("forecast_")})
    return _record(skill)


def _score(ref: str, states, args: argparse.Namespace) -> dict:
    from rollflow.forecast import ForecastSettings, frames_for_horizon, scored_forecast
    from rollflow.training import load_trained

    if ref.startswith("solver:"):
        return _score_solver(int(ref.removeprefix("solver:")), states, args)
    path, _, decay = ref.partition("@")
    model = load_trained(path, ema_decay=float(decay) if decay else None)
    settings = ForecastSettings(init_index=args.init_index, seed=0, batch_size=8,
                                num_frames=frames_for_horizon(model, args.frames),
                                num_members=args.members,
                                steps_per_shift=args.steps_per_shift,
                                symmetry_members=args.symmetry_members)
    _, skill = scored_forecast(model, states, settings)
    return _record(skill)


def _curve(record: dict, states):
    from ablate_pairs import rho_curve

    labels = states["trajectory"].values if "trajectory" in states.coords else None
    return rho_curve(record["rows"], record["lead_time"], labels)


def main(argv: list[str] | None = None) -> int:
    from ablate_pairs import checked_difference
    from rollflow.training.checkpoint import write_text_atomically

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="run dirs, RUN@EMA or shipped names")
    parser.add_argument("--out", type=Path, required=True, help="cache of the scores (JSON)")
    parser.add_argument("--validation", type=Path, default=ROOT / "data/kf32/validation.zarr")
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--init-index", type=int, default=2)
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--segments", type=int, nargs="+", metavar="START",
                        help="cut the states from these frames of every trajectory")
    parser.add_argument("--segment-frames", type=int, default=61)
    parser.add_argument("--steps-per-shift", type=int, default=None, metavar="K",
                        help="sample every model with K steps per frame (default: its own)")
    parser.add_argument("--symmetry-members", action="store_true",
                        help="member m forecasts g_m·ω and maps back (models, not solvers)")
    args = parser.parse_args(argv)
    cache = json.loads(args.out.read_text()) if args.out.exists() else {}
    states_tag = f"store={args.validation.resolve()},init={args.init_index},frames={args.frames}"
    tag = (f"store={args.validation.resolve()},members={args.members},init={args.init_index},"
           f"frames={args.frames}")
    if args.steps_per_shift is not None:
        tag += f",K={args.steps_per_shift}"
    if args.symmetry_members:
        tag += ",symmetry"
    if args.segments:
        segments = f",segments={'/'.join(map(str, args.segments))}x{args.segment_frames}"
        tag, states_tag = tag + segments, states_tag + segments

    def key(ref: str) -> str:      # a solver's score depends on the states only
        return f"{ref}|{states_tag if ref.startswith('solver:') else tag}"

    states = _states(args)
    for ref in args.models:
        if key(ref) not in cache:
            print(f"[pairs] scoring {ref}", file=sys.stderr)
            cache[key(ref)] = _score(ref, states, args)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomically(args.out, json.dumps(cache))
    first = cache[key(args.models[0])]
    print(f"Validation ({tag}); ΔT against {args.models[0]}, paired over the states\n")
    print("| model | T₀.₈ mean | T₀.₈ member | ΔT₀.₈ [95 % CI] |")
    print("|---|---|---|---|")
    for ref in args.models:
        record = cache[key(ref)]
        diff = checked_difference(_curve(record, states), _curve(first, states),
                                  record["T_mean"]["0.8"] - first["T_mean"]["0.8"], ref)
        d = {k: float(diff[k].sel(threshold=0.8)) for k in ("estimate", "lower", "upper")}
        print(f"| {ref} | {record['T_mean']['0.8']:.2f} | {record['T_member']['0.8']:.2f} | "
              f"{d['estimate']:+.2f} [{d['lower']:+.2f}, {d['upper']:+.2f}] |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
