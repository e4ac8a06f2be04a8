"""Which Courant numbers each solver backend survives: Re = 1000 Kolmogorov flow from the
random start (2 samples, 20 t.u.) at DNS 64² and 128², Courant 0.5 / 0.35 / 0.25, with the
backend's Courant limit lifted (rollflow.specs.COURANT_LIMIT) so the asked-for number is used.

    .venv/bin/python benchmarks/backend_stability.py [--backend exponax]
"""

from __future__ import annotations

import argparse
import time
from unittest import mock

from rollflow.errors import SolverBlowUpError
from rollflow.solver import simulate
from rollflow.specs import FlowSpec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="exponax", choices=["jaxcfd", "exponax"])
    args = parser.parse_args()
    with mock.patch.dict("rollflow.specs.COURANT_LIMIT", {args.backend: 1.0}):
        for size in (64, 128):
            for courant in (0.5, 0.35, 0.25):
                spec = FlowSpec(simulation_size=size, output_size=32, save_interval=0.2,
                                warmup_time=20.0, num_frames=2, num_samples=2,
                                courant_number=courant, backend=args.backend)
                start = time.perf_counter()
                try:
                    simulate(spec, [0, 1])
                    verdict = "stable for 20 t.u."
                except SolverBlowUpError as err:
                    verdict = str(err).split(" (")[0]
                print(f"{args.backend} {size}² C = {courant}: dt = {spec.time_step:.5f} t.u., "
                      f"{verdict} ({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
