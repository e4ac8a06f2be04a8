"""Write weight-space blends θ(w) = (1 − w) θ_A + w θ_B of two models, one file per w.

    .venv/bin/python experiments/kf32/blend.py kf32-rolling-k1 runs/kf32x4f/crps_r8 \\
        --weights 0.25 0.5 0.75 --out runs/blend [--name k1_r8]

A and B are `load_trained` references (run directory, `RUN@EMA`, shipped name); they must be
one family (same [net], sampler, normalisation and grid: a model and its fine-tuning). Each
blend is `OUT/NAME_wW.safetensors` (+ .json with a card naming A, B and w), which
`pair_models.py` and `rollflow forecast` accept as a model. Logic:
rollflow.training.blend; wiring here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _ref(text: str) -> tuple[str, float | None]:
    path, _, decay = text.partition("@")
    return path, float(decay) if decay else None


def main(argv: list[str] | None = None) -> int:
    from rollflow.training.blend import export_blend

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="model at w = 0 (run dir, RUN@EMA or shipped name)")
    parser.add_argument("b", help="model at w = 1")
    parser.add_argument("--weights", type=float, nargs="+", required=True)
    parser.add_argument("--out", type=Path, required=True, help="directory of the blends")
    parser.add_argument("--name", default="blend", help="file name stem (default: blend)")
    args = parser.parse_args(argv)
    (a, a_decay), (b, b_decay) = _ref(args.a), _ref(args.b)
    for weight in args.weights:
        path = export_blend(a, b, weight, f"{args.name}_w{weight:g}", directory=args.out,
                            a_ema_decay=a_decay, b_ema_decay=b_decay)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
