"""How exactly jax-cfd's KF32 solver commutes with the flow's symmetries.

    .venv/bin/python benchmarks/symmetry.py [--samples 2] [--write]

From developed 128² states (40 t.u. after random initial fields, seed 77), integrate ω and
g·ω for 3 t.u. and compare g applied to the first run with the second at the 32² output
grid, for generators and composites of the group (rollflow.symmetry): the max relative
error (max |Δ| / max |ω|) and the correlation at 0.2, 1 and 3 t.u. The exact equation is
invariant under all of them; any difference is the numerical scheme's. --write puts the
table in docs/figures/symmetry.json (quoted in docs/physics.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ELEMENTS = {"T (x-shift by 1 output node)": ({"shift": 1}, {"shift": 4}),
            "R (rotation by π)": ({"reflect_y": True}, {"reflect_y": True}),
            "S (shift-reflect)": ({"half_periods": 1}, {"half_periods": 1}),
            "S² (y-shift by 2π/k_f)": ({"half_periods": 2}, {"half_periods": 2}),
            "R·S": ({"reflect_y": True, "half_periods": 1}, {"reflect_y": True, "half_periods": 1})}
LEADS = {"0.2": 1, "1": 5, "3": 15}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    from rollflow.solver import advance, integrate, random_initial_vorticity
    from rollflow.specs import FlowSpec
    from rollflow.symmetry import GroupElement, apply_element

    spec = FlowSpec(simulation_size=128, output_size=32, warmup_time=0.0, num_frames=16,
                    num_samples=args.samples, seed=77)
    start = advance(spec, random_initial_vorticity(spec, range(args.samples)), 40.0)
    reference = integrate(spec, start, 16)
    table = {}
    for name, (out_kw, dns_kw) in ELEMENTS.items():
        g_out, g_dns = GroupElement(**out_kw), GroupElement(**dns_kw)
        moved = integrate(spec, apply_element(start, g_dns, 4), 16)
        mapped = apply_element(reference, g_out, 4)
        err = np.abs(mapped - moved).max(axis=(-2, -1)) / np.abs(mapped).max(axis=(-2, -1))
        rho = (mapped * moved).sum((-2, -1)) / np.sqrt(
            (mapped ** 2).sum((-2, -1)) * (moved ** 2).sum((-2, -1)))
        table[name] = {lead: {"max_relative_error": float(err[:, i].max()),
                              "min_correlation": float(rho[:, i].min())}
                       for lead, i in LEADS.items()}
        print(f"{name:30s} " + "  ".join(
            f"{lead} t.u.: err {v['max_relative_error']:.1e} ρ {v['min_correlation']:.6f}"
            for lead, v in table[name].items()), flush=True)
    if args.write:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
        path = ROOT / "docs/figures/symmetry.json"
        path.write_text(json.dumps({"command": "benchmarks/symmetry.py --write",
                                    "commit": commit, "machine": platform.node(),
                                    "samples": args.samples, "table": table}, indent=1))
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
