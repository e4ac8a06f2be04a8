"""Ship a KF32 model: export a run's EMA weights into rollflow/weights, score it on the test
store, write the model card (JSON beside the weights, and docs/models.md).

    .venv/bin/python experiments/kf32/ship.py rolling [--name kf32-rolling]

The test forecast uses the benchmark's settings (benchmark.toml [forecast]); the card
records the data spec, steps, samples seen, CPU-hours, commit and the test scores.
Logic lives in rollflow (training.shipped.export_model, forecast, analysis.headline_skill).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOC = ROOT / "docs" / "models.md"


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def _test_scores(name: str, plan: dict, test: Path) -> dict:
    from rollflow.analysis.skill import headline_skill
    from rollflow.conventions import VORTICITY
    from rollflow.forecast import ForecastSettings, forecast
    from rollflow.store import open_trajectories
    from rollflow.training import load_trained

    model = load_trained(name)
    fc = plan["forecast"]
    members = 1 if model.config.diffusion.mode == "deterministic" else fc["members"]
    truth = open_trajectories(test)
    settings = ForecastSettings(init_index=fc["init_index"], num_frames=fc["frames"],
                                num_members=members, seed=fc["seed"],
                                batch_size=fc["batch_size"])
    result = forecast(model, truth[VORTICITY].load(), settings, attrs=truth.attrs)
    skill = headline_skill(result[VORTICITY], truth[VORTICITY]).compute()
    sel = {"threshold": 0.8}
    return {
        "test_store": str(test.relative_to(ROOT)) if test.is_relative_to(ROOT) else str(test),
        "test_samples": int(truth.sizes["sample"]), "test_members": members,
        "test_frames": fc["frames"],
        "test_T_ensemble_mean": {str(t): [float(skill[f"decorrelation_mean_{k}"].sel(
            threshold=t)) for k in ("estimate", "lower", "upper")]
            for t in skill.threshold.values.tolist()},
        "test_T08_ensemble_mean": float(skill.decorrelation_mean_estimate.sel(sel)),
        "test_T08_single_member": float(skill.decorrelation_member_estimate.sel(sel)),
        "test_rho_at": dict(zip(map(str, skill.lead.values.tolist()),
                                skill.correlation_at_leads.values.tolist())),
        "test_log_spectral_error": float(skill.log_spectral_error),
        "seconds_per_time_unit": float(result.attrs["forecast_seconds_per_time_unit"]),
        "network_calls_per_frame": float(result.attrs["forecast_network_calls_per_frame"]),
    }


def main(argv: list[str] | None = None) -> int:
    from rollflow.configio import load_toml
    from rollflow.nets import build_network, count_parameters
    from rollflow.store import read_spec
    from rollflow.training.checkpoint import latest_checkpoint, load_checkpoint
    from rollflow.training.cards import models_page
    from rollflow.training.shipped import WEIGHTS_DIR, export_model, read_model_card

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="benchmark model (runs/kf32/runs/<model>)")
    parser.add_argument("--name", help="shipped name (default kf32-<model>)")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/kf32")
    parser.add_argument("--data", type=Path, default=ROOT / "data/kf32")
    parser.add_argument("--status", default="", help="a line for the card (e.g. interim)")
    args = parser.parse_args(argv)
    plan = load_toml(HERE / "benchmark.toml")
    name = args.name or f"kf32-{args.model}"
    run_dir = args.out / "runs" / args.model
    ckpt = load_checkpoint(latest_checkpoint(run_dir))
    spec = read_spec(args.data / "train.zarr")
    card = {"status": args.status, "commit": _commit(), "cpu_hours":
            ckpt.info.get("cpu_seconds", 0.0) / 3600.0,
            "samples_seen": ckpt.info.get("samples_seen"),
            "parameters": count_parameters(build_network(ckpt.config.net, ckpt.config.num_frames)),
            "data": (f"{len(ckpt.info['train_samples'])} training trajectories of "
                     f"`data/kf32/train.zarr` (experiments/kf32/train.toml: DNS "
                     f"{spec.simulation_size}² → {spec.output_size}², Re = {1 / spec.viscosity:g}, "
                     f"drag {spec.drag}, k_f = {spec.forcing_wavenumber}, {spec.num_frames} frames "
                     f"every {spec.save_interval} t.u. after {spec.warmup_time:g} t.u. warm-up, seed "
                     f"{spec.seed}); normalisation mean {ckpt.stats.mean:.4f}, std {ckpt.stats.std:.4f}")}
    export_model(run_dir, name, card=card)
    card.update(_test_scores(name, plan, args.data / "test.zarr"))
    meta = read_model_card(name)
    meta["card"] = card
    (WEIGHTS_DIR / f"{name}.json").write_text(json.dumps(meta, indent=1))
    DOC.write_text(models_page())
    print(f"shipped {name}: step {ckpt.step}, test T0.8 (ensemble mean) "
          f"{card['test_T08_ensemble_mean']:.2f} t.u.; wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
