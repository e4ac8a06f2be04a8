"""Model cards as markdown: what a shipped model is, how it was trained, and what it scored
at what cost (every reading with the cost of all its members, METHOD.md §5).

`card_markdown(meta)` renders one `read_model_card(name)`; `models_page()` the page of every
shipped model (docs/models.md, written by experiments/kf32/ship.py and x4_ship.py).
Pure string work on the card JSON; no tensors are read.
"""

from __future__ import annotations

from rollflow.training.shipped import read_model_card, shipped_models

__all__ = ["card_markdown", "models_page"]


def _steps_text(diffusion: dict) -> str:
    """How the sampler spends its network calls, in the words of the mode."""
    k, w = diffusion["steps_per_shift"], diffusion["window_size"]
    if diffusion["mode"] == "rolling":
        return f"K = {k} steps per emitted frame"
    if diffusion["mode"] == "standard":
        return f"N = W·K = {w * k} denoising steps per {w}-frame window"
    return f"one network call per {w}-frame window"


def _history_entry(entry: dict) -> str:
    """One earlier card of a name in a line: its step and test T₀.₈, read from either card
    format (issue-14 `test_readings`, or the benchmark card's ensemble-mean reading)."""
    nan = float("nan")
    readings = [r for r in entry.get("test_readings", []) if r["precision"] == "float32"]
    if readings:
        one, most = min(readings, key=lambda r: r["members"]), max(readings,
                                                                   key=lambda r: r["members"])
        text = (f"T₀.₈ {one['T08'][0]:.2f} single member, {most['T08'][0]:.2f} "
                f"[{most['T08'][1]:.2f}, {most['T08'][2]:.2f}] {most['members']}-member mean")
    else:
        text = (f"T₀.₈ {entry.get('test_T08_ensemble_mean', nan):.2f} (ensemble mean, "
                f"{entry.get('test_members')} members)")
    return f"step {entry.get('step')}: {text} on {entry.get('test_store')}"


def _weights_line(card: dict) -> str:
    """Where the weights come from: a run's EMA, or a weight-space blend of two models."""
    if "blend" in card:
        b = card["blend"]
        return (f"weights (1 − {b['weight']:g})·θ_A + {b['weight']:g}·θ_B of A = `{b['a']}` and "
                f"B = `{b['b']}` (each at its chosen EMA; rollflow.training.blend)")
    return f"EMA decay {card['ema_decay']} (chosen on validation)"


def _training_line(meta: dict) -> str:
    cfg = meta["config"]
    if "blend" in meta["card"]:
        return "that of its two parts (a blend costs seconds), stage by stage"
    return (f"{meta['step']} steps × batch {cfg['optim']['batch_size']} on "
            f"`data/kf32/train128.zarr`\n  (128 trajectories, symmetry augmentation "
            f"`{cfg['data']['augment']}`)")


def _readings_markdown(meta: dict) -> str:
    """An issue-14 card: every test reading with the cost of all its members."""
    card, cfg = meta["card"], meta["config"]
    rows = "\n".join(
        f"| {r['members']} | {r['precision']} | {r['calls_per_frame_all_members']:.2f} | "
        f"{r['seconds_per_time_unit_all_members']:.3g} | {r['T08'][0]:.2f} [{r['T08'][1]:.2f}, "
        f"{r['T08'][2]:.2f}] | {r['break_even_time_units']:.3g} |"
        for r in card["test_readings"])
    hours = ", ".join(f"{k} {v:.2f}" for k, v in card["cpu_hours_by_stage"].items())
    past = "; ".join(_history_entry(h) for h in card.get("history", []))
    d = cfg["diffusion"]
    bf16 = card.get("precision") != "float32"     # absent: cards before the choice of precision
    return f"""## `{meta['name']}`

{card.get('status', '')}

- **Use:** `rollflow forecast {meta['name']} --data STORE --out fc.zarr --members 8{" --bf16" if bf16 else ""}{" --symmetry-members" if card.get("symmetry_members") else ""}`
  (any KF32 store: 32² grid, Δt = 0.2 t.u.; {"`--bf16` where the CPU has native bf16" if bf16 else "float32 network calls, chosen over bf16 on the selection set"}{"; symmetry members as chosen on validation" if card.get("symmetry_members") else ""}).
- **Model:** rolling diffusion, n_ctx = {d['num_context']}, W = {d['window_size']},
  K = {d['steps_per_shift']} steps per frame{f" (distilled from K = {d['distilled_from']})" if d.get('distilled_from') else ""},
  η = {d['eta']}; channel-stacked U-Net base {cfg['net']['base_channels']} × {cfg['net']['channel_multipliers']};
  {_weights_line(card)}, stored as {meta['weights_dtype']}.
- **Training:** {_training_line(meta)}; CPU-hours: {hours}
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
    """The markdown card of one shipped model (`read_model_card(name)`): an issue-14 card
    (test readings at every ensemble size, each with the cost of all its members) when the
    card has `test_readings`, else the benchmark card (thresholds, ρ, cost per member and
    for all members)."""
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


def models_page() -> str:
    """docs/models.md: a heading, then the card of every shipped model."""
    head = ("# Shipped models\n\nTrained weights inside the package (`rollflow/weights/`), "
            "listed by `rollflow models`; a name works wherever a run directory does. Each "
            "card is written by `.venv/bin/python experiments/kf32/ship.py MODEL` from the "
            "run and the benchmark's test store.\n\n")
    return head + "\n".join(card_markdown(read_model_card(n)) for n in shipped_models())
