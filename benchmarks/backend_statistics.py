"""Do the two solver backends give the same KF32 statistics? (issue 18)

    .venv/bin/python benchmarks/backend_statistics.py [--config experiments/kf32/test.toml]

Simulates the config with exponax (the same initial fields as the jax-cfd store named by
--jaxcfd, made from the same config) into --out, then prints, per backend, the time mean of
the kinetic energy, enstrophy, injection and eddy momentum flux with the spread of the
per-sample means, the physics check of each store, and the difference of the two means in
units of its standard error √(s₁²/n₁ + s₂²/n₂) (|z| ≤ 2: agreement within sampling spread).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _checks(path: Path):
    from rollflow.analysis.budget import check_messages, spec_physics_checks
    from rollflow.store import open_trajectories, read_spec

    checks = spec_physics_checks(open_trajectories(path).vorticity, read_spec(path))
    return checks, check_messages(checks)


def main() -> None:
    from rollflow.generate import generate_store, load_simulation_config
    from rollflow.provenance import git_commit, machine_description

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "experiments/kf32/test.toml")
    parser.add_argument("--jaxcfd", type=Path, default=ROOT / "data/kf32/test.zarr")
    parser.add_argument("--out", type=Path, default=ROOT / "data/kf32/test_exponax.zarr")
    args = parser.parse_args()
    from rollflow.store import check_not_input

    check_not_input(args.out, [args.jaxcfd, args.config])
    sim = load_simulation_config(args.config)
    generate_store(sim.flow.replace(backend="exponax"), args.out,
                   batch_size=sim.generation.batch_size,
                   command=f"benchmarks/backend_statistics.py --config {args.config}")
    found = {"jax-cfd": _checks(args.jaxcfd), "exponax": _checks(args.out)}
    print(f"commit {git_commit(ROOT)}, {machine_description()}; {args.config.name}")
    names = ("kinetic_energy", "enstrophy", "injection", "eddy_momentum_flux")
    print("| time mean (spread of sample means) | " + " | ".join(found) + " | z |")
    print("|---|---|---|---|")
    for name in names:
        (a, b) = (found[k][0][name].values for k in found)
        z = (b.mean() - a.mean()) / math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        print(f"| {name.replace('_', ' ')} | {a.mean():.4g} ({a.std(ddof=1):.2g}) | "
              f"{b.mean():.4g} ({b.std(ddof=1):.2g}) | {z:+.2f} |")
    for label, (checks, failures) in found.items():
        r = checks.budget_residual.values
        print(f"{label}: physics check {'ok' if not failures else failures[0]}; energy budget "
              f"residual {r.min():+.2%} … {r.max():+.2%}")


if __name__ == "__main__":
    main()
