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


def rho_curve(rows: list, lead_time: list, trajectory=None):
    """Per-state ensemble-mean ρ curves (sample, lead_time); with `trajectory` labels per
    state, the paired bootstrap resamples whole trajectories."""
    import xarray as xr

    coords = {"lead_time": lead_time, "sample": range(len(rows))}
    if trajectory is not None:
        coords["trajectory"] = ("sample", trajectory)
    return xr.DataArray(rows, dims=("sample", "lead_time"), coords=coords)


def checked_difference(first, second, stated: float, what: str):
    """paired_decorrelation_difference of two curves; SystemExit unless its T₀.₈ estimate
    is the stated T₀.₈(first) − T₀.₈(second) (curves that do not belong to the scores)."""
    from rollflow.analysis.decorrelation import paired_decorrelation_difference

    diff = paired_decorrelation_difference(first, second, dim="lead_time")
    if abs(float(diff.estimate.sel(threshold=0.8)) - stated) > 1e-6:
        raise SystemExit(f"{what}: the saved curves do not give the stored T0.8; rescore")
    return diff


def _result(out: Path, name: str) -> dict:
    result = json.loads((out / name / "result.json").read_text())
    if "ensemble_mean_rho" not in result:
        raise SystemExit(f"{out / name / 'result.json'} holds no per-state curves (scored "
                         "before ablate.py saved them); delete it and rerun ablate.py")
    return result


def _curve(result: dict):
    return rho_curve(result["ensemble_mean_rho"]["rows"],
                     result["ensemble_mean_rho"]["lead_time"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the ablation's --out directory")
    parser.add_argument("pairs", nargs="+", metavar="A:B", help="variant pairs, A − B")
    args = parser.parse_args(argv)
    print("| A − B | ΔT₀.₉₅ | ΔT₀.₉ | ΔT₀.₈ [95 % CI] | share A longer at 0.8 |")
    print("|---|---|---|---|---|")
    for pair in args.pairs:
        a, _, b = pair.partition(":")
        ra, rb = _result(args.out, a), _result(args.out, b)
        diff = checked_difference(_curve(ra), _curve(rb),
                                  ra["T_mean"]["0.8"] - rb["T_mean"]["0.8"], pair)
        est = [float(diff.estimate.sel(threshold=c)) for c in (0.95, 0.9, 0.8)]
        lo, hi = (float(diff[k].sel(threshold=0.8)) for k in ("lower", "upper"))
        share = float(diff.share_first_longer.sel(threshold=0.8))
        print(f"| {a} − {b} | {est[0]:+.2f} | {est[1]:+.2f} | {est[2]:+.2f} "
              f"[{lo:+.2f}, {hi:+.2f}] | {share:.2f} |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
