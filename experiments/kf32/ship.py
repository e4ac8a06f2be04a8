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


def _steps_text(diffusion: dict) -> str:
    """How the sampler spends its network calls, in the words of the mode."""
    k, w = diffusion["steps_per_shift"], diffusion["window_size"]
    if diffusion["mode"] == "rolling":
        return f"K = {k} steps per emitted frame"
    if diffusion["mode"] == "standard":
        return f"N = W·K = {w * k} denoising steps per {w}-frame window"
    return f"one network call per {w}-frame window"


def _readings_markdown(meta: dict) -> str:
    """An issue-14 card: every test reading with the cost of all its members."""
    card, cfg = meta["card"], meta["config"]
    rows = "\n".join(
        f"| {r['members']} | {r['precision']} | {r['calls_per_frame_all_members']:.2f} | "
        f"{r['seconds_per_time_unit_all_members']:.3g} | {r['T08'][0]:.2f} [{r['T08'][1]:.2f}, "
        f"{r['T08'][2]:.2f}] | {r['break_even_time_units']:.3g} |"
        for r in card["test_readings"])
    hours = ", ".join(f"{k} {v:.2f}" for k, v in card["cpu_hours_by_stage"].items())
    past = "; ".join(f"step {h.get('step')}: T₀.₈ {h.get('test_T08_ensemble_mean', float('nan')):.2f} "
                     f"(ensemble mean, {h.get('test_members')} members, {h.get('test_store')})"
                     for h in card.get("history", []))
    d = cfg["diffusion"]
    return f"""## `{meta['name']}`

{card.get('status', '')}

- **Use:** `rollflow forecast {meta['name']} --data STORE --out fc.zarr --members 8 --bf16`
  (any KF32 store: 32² grid, Δt = 0.2 t.u.; `--bf16` where the CPU has native bf16).
- **Model:** rolling diffusion, n_ctx = {d['num_context']}, W = {d['window_size']},
  K = {d['steps_per_shift']} steps per frame{f" (distilled from K = {d['distilled_from']})" if d.get('distilled_from') else ""},
  η = {d['eta']}; channel-stacked U-Net base {cfg['net']['base_channels']} × {cfg['net']['channel_multipliers']};
  EMA decay {card['ema_decay']} (chosen on validation), stored as {meta['weights_dtype']}.
- **Training:** {meta['step']} steps × batch {cfg['optim']['batch_size']} on `data/kf32/train128.zarr`
  (128 trajectories, symmetry augmentation `{cfg['data']['augment']}`); CPU-hours: {hours}
  (total {card['cpu_hours']:.2f}).
- **Test** ({card['test_store']}, cluster bootstrap by trajectory). Every row costs all
  its members; break-even: forecast t.u. per trajectory after which the CPU-hours above
  are repaid against the solver of equal T₀.₈ (inf: never):

| members | precision | network calls per frame (all members) | s per t.u. per trajectory (all members) | T₀.₈ [95 % CI] | break-even (t.u.) |
|---|---|---|---|---|---|
{rows}

- **History of this name:** {past or "none"}.
"""


def card_markdown(meta: dict) -> str:
    if "test_readings" in meta["card"]:
        return _readings_markdown(meta)
    card, cfg = meta["card"], meta["config"]
    t = card.get("test_T_ensemble_mean", {})
    rows = "\n".join(f"| ρ < {k} | {v[0]:.2f} [{v[1]:.2f}, {v[2]:.2f}] |" for k, v in t.items())
    rho = ", ".join(f"{v:.3f} at {k} t.u." for k, v in card.get("test_rho_at", {}).items())
    net = cfg["net"]
    return f"""## `{meta['name']}`

{card.get('status') or meta.get('status', '')}

- **Use:** `rollflow forecast {meta['name']} --data STORE --out fc.zarr --members 8`
  (any KF32 store: 32² grid, Δt = 0.2 t.u.); Python: `rollflow.training.load_trained("{meta['name']}")`.
- **Model:** {cfg['diffusion']['mode']} diffusion, n_ctx = {cfg['diffusion']['num_context']},
  W = {cfg['diffusion']['window_size']}, {_steps_text(cfg['diffusion'])}
  ({card.get('network_calls_per_frame', 0):.2f} network calls per frame),
  target "{cfg['diffusion']['target']}", loss weighting "{cfg['diffusion']['loss_weighting']}";
  backbone `{net['window_encoding']}` U-Net, base {net['base_channels']} channels × {net['channel_multipliers']},
  {card.get('parameters', 0) / 1e6:.2f} M parameters, EMA weights stored as {meta['weights_dtype']}.
- **Data:** {card.get('data', '')}.
- **Training:** {meta['step']} steps × batch {cfg['optim']['batch_size']} = {card.get('samples_seen')} windows,
  {card.get('cpu_hours', 0):.2f} CPU-hours (process CPU time, one torch thread, 2-core AMD EPYC),
  AdamW lr {cfg['optim']['lr']} with cosine decay to step {cfg['optim']['total_steps']}, seed {cfg['seed']};
  commit `{card.get('commit')}`; config `experiments/kf32/{cfg['diffusion']['mode']}.toml`.
- **Test scores** ({card.get('test_samples')} trajectories of `{card.get('test_store')}`, seed 1000,
  {card.get('test_members')} members, {card.get('test_frames')} frames; first lead where the
  sample-mean correlation of the ensemble mean drops below c, lead 0 counted as ρ = 1,
  95 % bootstrap CI over trajectories):

| threshold | T (t.u.) |
|---|---|
{rows}

  Single member T₀.₈ = {card.get('test_T08_single_member', float('nan')):.2f} t.u.; ρ of the ensemble mean {rho};
  log-spectral error of the time-mean spectrum {card.get('test_log_spectral_error', float('nan')):.3f};
  {card.get('seconds_per_time_unit', float('nan')):.3f} s per simulated t.u. per trajectory **per member** on this
  CPU (measured on a busy machine): the {card.get('test_members')}-member ensemble-mean reading above cost
  {card.get('test_members', 1) * card.get('seconds_per_time_unit', float('nan')):.3f} s per t.u. (all members).
"""


def write_doc() -> None:
    from rollflow.training.shipped import read_model_card, shipped_models

    head = ("# Shipped models\n\nTrained weights inside the package (`rollflow/weights/`), "
            "listed by `rollflow models`; a name works wherever a run directory does. Each "
            "card is written by `.venv/bin/python experiments/kf32/ship.py MODEL` from the "
            "run and the benchmark's test store.\n\n")
    DOC.write_text(head + "\n".join(card_markdown(read_model_card(n)) for n in shipped_models()))


def main(argv: list[str] | None = None) -> int:
    from rollflow.configio import load_toml
    from rollflow.nets import build_network, count_parameters
    from rollflow.store import read_spec
    from rollflow.training.checkpoint import latest_checkpoint, load_checkpoint
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
    write_doc()
    print(f"shipped {name}: step {ckpt.step}, test T0.8 (ensemble mean) "
          f"{card['test_T08_ensemble_mean']:.2f} t.u.; wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
