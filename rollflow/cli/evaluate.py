"""`rollflow evaluate FORECAST --truth STORE [--out METRICS] [--figures DIR]`.

Thin: open both stores, call `rollflow.analysis.skill.headline_skill`, print a summary
table (decorrelation of the ensemble mean and of single members as labelled rows), save
the scores (zarr or netCDF) and, on request, the standard figures. The stores stay lazy
(dask): scores are computed chunk by chunk, so a forecast larger than memory evaluates.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rollflow.cli._shared import float_above, int_at_least

__all__ = ["add_parser", "run", "summary_lines"]

ORDER = 50


def add_parser(subparsers) -> None:
    """Register the `evaluate` sub-command."""
    parser = subparsers.add_parser(
        "evaluate", help="score a forecast against the truth (correlation, RMSE, CRPS, spectra)",
        description="Score the ensemble forecast in FORECAST against the truth store.")
    parser.add_argument("forecast", metavar="FORECAST", help="store written by `rollflow forecast`")
    parser.add_argument("--truth", required=True, metavar="STORE", help="truth trajectory store")
    parser.add_argument("--out", metavar="METRICS", help="write the scores (.zarr or .nc)")
    parser.add_argument("--sums", metavar="SUMS",
                        help="also write the scores as additive sums (metric × lead_time: "
                             "ρ, RMSE, spread, CRPS and its parts, energy score, spectral "
                             "error per octave band; .nc or .zarr) that merge exactly across "
                             "runs (rollflow.analysis.score_sums)")
    parser.add_argument("--figures", metavar="DIR", help="write PNG figures into DIR")
    parser.add_argument("--members", type=int_at_least(1), metavar="M",
                        help="score only the first M members (the reading of an M-member "
                             "ensemble, costed as M members; default: all)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--block-mb", type=float_above(0), default=256, metavar="MB",
                        help="forecast data scored per block of samples (default 256 MiB; "
                             "peak memory is a few times this, whatever the store size)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing METRICS")
    parser.set_defaults(run=run)


READINGS = (("mean", "ensemble mean"), ("member", "single member"))


def _cost_text(costs: dict | None, key: str) -> str:
    """What one reading cost (all the members it averages), or "" without timings."""
    if not costs or costs["seconds_per_time_unit_one_member"] != costs[
            "seconds_per_time_unit_one_member"]:
        return ""
    if key == "member":
        return f"; costs {costs['seconds_per_time_unit_one_member']:.3g} s per t.u. (1 member)"
    m = costs["members"]
    return (f"; costs {costs['seconds_per_time_unit_all_members']:.3g} s per t.u. "
            f"({m} members × {costs['seconds_per_time_unit_one_member']:.3g} s)")


def summary_lines(scores, costs: dict | None = None) -> list[str]:
    """Human-readable summary of `rollflow.analysis.skill.headline_skill` output.

    Decorrelation times come in two labelled rows per threshold: the first crossing of the
    sample-mean correlation of the ensemble mean, and the same reading of single members
    (averaged over members); both count lead 0 as ρ = 1 and interpolate. With `costs`
    (`rollflow.analysis.cost.reading_costs` of the forecast) each reading states what it
    cost per t.u. per trajectory: all M members for the ensemble mean, one for a member.
    """
    members = scores.attrs["num_members"]
    lines = [f"members: {members}, samples: {scores.sizes['sample']}, lead times: "
             f"{scores.sizes['time']}"]
    if costs and costs["calls_per_frame_per_member"]:
        lines.append(f"network calls per emitted frame: "
                     f"{costs['calls_per_frame_per_member']:.2f} per member, "
                     f"{costs['calls_per_frame_per_member'] * members:.2f} for all {members}")
    for threshold in scores["threshold"].values:
        sel = {"threshold": threshold}
        for key, label in READINGS if members > 1 else READINGS[:1]:
            est, lo, hi = (float(scores[f"decorrelation_{key}_{k}"].sel(sel))
                           for k in ("estimate", "lower", "upper"))
            lines.append(f"decorrelation time (ρ < {threshold:.2f}), {label}: {est:.2f} t.u. "
                         f"[95% CI {lo:.2f}, {hi:.2f}]{_cost_text(costs, key)}")
    lead = scores["lead_time"].values if "lead_time" in scores.coords else scores["time"].values
    for i in sorted({0, len(lead) // 2, len(lead) - 1}):
        row = (f"lead {lead[i]:.2f} t.u.: ρ(ens. mean) "
               f"{float(scores.ensemble_mean_correlation.isel(time=i).mean()):.3f}")
        row += f", RMSE {float(scores.rmse.isel(time=i)):.3f}"
        if "spread_skill" in scores:
            row += (f", spread/skill {float(scores.spread_skill.isel(time=i)):.2f}"
                    f", CRPS {float(scores.crps.isel(time=i)):.3f}")
        lines.append(row)
    if members == 1:
        lines.append("spread, spread–skill and CRPS need ≥ 2 members (this forecast has 1)")
    lines.append(f"log-spectral error of time-mean E(k): {float(scores.log_spectral_error):.3f}")
    return lines


def run(args: argparse.Namespace) -> int:
    import sys

    from tqdm import tqdm

    from rollflow.analysis.cost import reading_costs
    from rollflow.analysis.scores import align_truth
    from rollflow.forecast.skill import evaluate_in_blocks
    from rollflow.store import check_not_input, open_for_scoring, save_dataset

    for output, flag in ((args.out, "--out"), (args.figures, "--figures"),
                         (args.sums, "--sums")):
        if output:
            check_not_input(output, [args.forecast, args.truth], what=flag)
    forecast_ds, forecast, truth = open_for_scoring(args.forecast, args.truth,
                                                    members=args.members)
    align_truth(forecast, truth)  # bad input fails in one line, before the progress bar
    costs = reading_costs(forecast_ds.attrs, forecast.sizes["member"]) \
        if "forecast_seconds_per_time_unit" in forecast_ds.attrs else None
    sums_attrs = None if not args.sums else {
        "truth_store": str(args.truth), "forecast_store": str(args.forecast),
        "command": "rollflow " + " ".join(sys.argv[1:]),
        **{f"cost_{k}": v for k, v in (costs or {}).items()}}
    with tqdm(total=forecast.sizes["sample"], unit="sample", desc="evaluate",
              file=sys.stderr, dynamic_ncols=True) as bar:
        scores, sums = evaluate_in_blocks(forecast, truth, block_mb=args.block_mb,
                                          seed=args.seed, sums_attrs=sums_attrs,
                                          progress=bar.update)
    scores.attrs.update({k: v for k, v in forecast_ds.attrs.items() if k.startswith("forecast_")})
    scores.attrs["forecast_num_members"] = int(forecast.sizes["member"])
    if costs:
        scores.attrs.update({f"cost_{k}": v for k, v in costs.items()})
    for line in summary_lines(scores, costs):
        print(line)
    for path, data in ((args.out, scores), (args.sums, sums)):
        if path:
            save_dataset(data, path, overwrite=args.overwrite)
            print(f"wrote {path}")
    if args.figures:
        from rollflow.analysis.figures import standard_figures

        for path in standard_figures(scores, forecast, truth, args.figures):
            print(f"wrote {path}")
    return 0
