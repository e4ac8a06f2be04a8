"""Paired differences between ablation variants scored on the same validation states.

    .venv/bin/python experiments/kf32/ablate_pairs.py runs/kf32x4/ablations_noise \\
        s03:clean s10:clean

Each A:B reads A/result.json and B/result.json (written by `ablate.py` with each state's
ensemble-mean ρ curve) and prints T_c(A) − T_c(B) for c = 0.95, 0.9, 0.8 with a 95 % paired
bootstrap over the states (1 000 resamples, seed 0), and the share of resamples with A longer.
Logic: rollflow.analysis.decorrelation.paired_decorrelation_difference; wiring here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _curve(out: Path, name: str):
    import xarray as xr

    result = json.loads((out / name / "result.json").read_text())
    if "ensemble_mean_rho" not in result:
        raise SystemExit(f"{out / name / 'result.json'} holds no per-state curves (scored "
                         "before ablate.py saved them); delete it and rerun ablate.py")
    rho = result["ensemble_mean_rho"]
    return xr.DataArray(rho["rows"], dims=("sample", "lead_time"),
                        coords={"lead_time": rho["lead_time"],
                                "sample": range(len(rho["rows"]))})


def main(argv: list[str] | None = None) -> int:
    from rollflow.analysis.decorrelation import paired_decorrelation_difference

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the ablation's --out directory")
    parser.add_argument("pairs", nargs="+", metavar="A:B", help="variant pairs, A − B")
    args = parser.parse_args(argv)
    print("| A − B | ΔT₀.₉₅ | ΔT₀.₉ | ΔT₀.₈ [95 % CI] | share A longer at 0.8 |")
    print("|---|---|---|---|---|")
    for pair in args.pairs:
        a, _, b = pair.partition(":")
        diff = paired_decorrelation_difference(_curve(args.out, a), _curve(args.out, b),
                                               dim="lead_time")
        est = [float(diff.estimate.sel(threshold=c)) for c in (0.95, 0.9, 0.8)]
        told = [json.loads((args.out / n / "result.json").read_text())["T_mean"]["0.8"]
                for n in (a, b)]
        if abs(est[2] - (told[0] - told[1])) > 1e-6:     # the curves must give the T's
            raise SystemExit(f"{pair}: the saved curves do not give the results' T0.8; "
                             "rescore (delete result.json, rerun ablate.py)")
        lo, hi = (float(diff[k].sel(threshold=0.8)) for k in ("lower", "upper"))
        share = float(diff.share_first_longer.sel(threshold=0.8))
        print(f"| {a} − {b} | {est[0]:+.2f} | {est[1]:+.2f} | {est[2]:+.2f} "
              f"[{lo:+.2f}, {hi:+.2f}] | {share:.2f} |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
