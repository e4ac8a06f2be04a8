"""`rollflow models`: the trained models shipped with the package.

Thin: one line per model (name, mode, grid, training steps, budget and the test score its
card records); any of these names can stand where a run directory is expected, e.g.
`rollflow forecast kf32-rolling --data STORE --out fc.zarr`.
"""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run", "model_line"]

ORDER = 35


def add_parser(subparsers) -> None:
    """Register the `models` sub-command."""
    parser = subparsers.add_parser(
        "models", help="list the trained models shipped with rollflow",
        description="List the shipped models; their names work wherever a run directory does.")
    parser.set_defaults(run=run)


def model_line(meta: dict) -> str:
    """One line describing a shipped model's card."""
    config, card = meta["config"], meta.get("card", {})
    parts = [f"{meta['name']}: {config['diffusion']['mode']}",
             f"{meta['grid_size']}² grid", f"{meta['step']} steps"]
    if "cpu_hours" in card:
        parts.append(f"{card['cpu_hours']:.1f} CPU-h")
    if "test_T08_ensemble_mean" in card:
        parts.append(f"test T0.8 {card['test_T08_ensemble_mean']:.2f} t.u.")
    return ", ".join(parts)


def run(args: argparse.Namespace) -> int:
    from rollflow.training.shipped import WEIGHTS_DIR, read_model_card, shipped_models

    names = shipped_models()
    if not names:
        print(f"no models shipped (looked in {WEIGHTS_DIR})")
        return 0
    for name in names:
        print(model_line(read_model_card(name)))
    print("model cards: docs/models.md")
    return 0
