"""Long-run statistics of the shipped KF32 models (issue 16): 10 000-frame rollouts
(2 000 t.u.) against the climate of the training store.

    .venv/bin/python experiments/kf32/long_run.py [--models kf32-rolling-k1 ...]

Each model rolls out one member from each of `--states` validation states (frame 2 of
data/kf32/validation.zarr) into --out/<model>.zarr (written and resumable 500 frames at a
time), and `rollflow.analysis.climate.climate_statistics` reads it against the summary of
every frame of data/kf32/train128.zarr (`summarise_climate`, one pass for all models):
share stable, normalised spectral error (median over frames), Wasserstein-1 of the
one-point ω PDF, shares of frames inside the climate's KE and enstrophy 1–99 % bands,
integral time scale of KE (the climate's beside it). Prints a markdown table with the
commit and machine; the numbers go into docs/results.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODELS = ["kf32-rolling-k1", "kf32-rolling", "kf32-standard"]


def main() -> None:
    from rollflow.analysis.climate import climate_statistics, summarise_climate
    from rollflow.forecast import ForecastSettings, forecast_with_progress
    from rollflow.provenance import git_commit, machine_description
    from rollflow.store import open_trajectories, read_spec
    from rollflow.training import load_trained

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", default=MODELS,
                        help="models to roll out (none: only the truth's reference row)")
    parser.add_argument("--truth", type=Path, default=ROOT / "data/kf32/validation.zarr")
    parser.add_argument("--climate", type=Path, default=ROOT / "data/kf32/train128.zarr")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/long_run")
    parser.add_argument("--states", type=int, default=2)
    parser.add_argument("--frames", type=int, default=10_000)
    args = parser.parse_args()
    truth = open_trajectories(args.truth).isel(sample=slice(0, args.states))
    spec = read_spec(args.truth)
    climate = open_trajectories(args.climate).vorticity
    summary = summarise_climate(climate, save_interval=read_spec(args.climate).save_interval,
                                frames=args.frames)
    rows = []
    for name in args.models:
        model = load_trained(name)
        settings = ForecastSettings(init_index=2, num_frames=args.frames, num_members=1,
                                    batch_size=args.states, seed=0, time_chunk=500)
        path = args.out / f"{name}.zarr"
        forecast_with_progress(model, truth.vorticity, settings, path,
                               desc=f"{name}: {args.frames} frames", attrs=truth.attrs)
        rollout = open_trajectories(path, validate=False).vorticity.load()
        stride = round(float(rollout.time[1] - rollout.time[0]) / spec.save_interval)
        stats = climate_statistics(rollout, summary, save_interval=stride * spec.save_interval)
        rows.append(f"| {name} | {stats.sizes['sample']} × {rollout.sizes['time']} frames | "
                    f"{float(stats.stable.mean()):.2f} | "
                    f"{float(stats.spectral_error.median()):.3f} | "
                    f"{float(stats.pdf_distance.mean()):.3f} | "
                    f"{float(stats.kinetic_energy_share_in_band.mean()):.3f} | "
                    f"{float(stats.enstrophy_share_in_band.mean()):.3f} | "
                    f"{float(stats.integral_time.mean()):.2f} |")
    floor, tau = summary.floors, summary.integral_time
    rows.append(f"| truth (the climate's own frames / trajectories) | "
                f"{climate.sizes['sample']} × {climate.sizes['time']} frames | – | "
                f"{floor['climate_spectral_error_median']:.3f} | "
                f"{floor['climate_pdf_distance_median']:.3f} | 0.98 | 0.98 | {tau:.2f} |")
    print(f"commit {git_commit(ROOT)}, {machine_description()}; climate {args.climate.name} "
          f"(KE integral time {tau:.2f} t.u.)")
    print("| model | rollouts | share stable | normalised spectral error (median over frames) "
          "| W₁ of the ω PDF (1/t.u.) | frames in the KE band | frames in the enstrophy band "
          "| KE integral time (t.u.) |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
