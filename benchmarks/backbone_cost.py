"""Forward cost of the networks of several training configs, side by side on this CPU.

    .venv/bin/python benchmarks/backbone_cost.py A.toml B.toml ... [--rows 8 64]
        [--precision float32 bfloat16] [--rounds 7] [--calls 5] [--threads 2]

One call = one forward pass of a config's network (untrained: the cost of a convolution does
not depend on its weights) over `rows` windows, as in `benchmarks/call_speed.py`, under the
forecast path's options (`rollflow.forecast.speed`). The configs run in interleaved rounds
(A B C … A B C …) so that drift in the machine's load hits every one alike; each is
reported as the median ms per row and as the median per-round ratio to the first config
at the same rows and precision. The cost of a forecast per simulated t.u. is (network calls
per t.u.) × (ms per row): this ratio is how much a larger network raises it.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from call_speed import _infer as infer, window_inputs    # benchmarks/ is the script's dir

ROOT = Path(__file__).resolve().parents[1]


def _network(config_path: str, precision: str):
    from rollflow.forecast.speed import InferenceOptions, fast_network
    from rollflow.nets import build_network, count_parameters
    from rollflow.training import load_train_config

    config = load_train_config(config_path)
    frames = config.diffusion.num_context + config.diffusion.window_size
    torch.manual_seed(0)
    net = build_network(config.net, frames).eval()
    fast = fast_network(net, InferenceOptions(precision=precision),
                        warn=lambda m: print(m, file=sys.stderr))
    return (lambda x, lam, ctx: infer(fast, x, lam, ctx)), count_parameters(net), config


def measure(paths: list[str], rows: int, precision: str, rounds: int, calls: int) -> dict:
    """{config: {ms_per_row, ratio (to the first), parameters}} at `rows`, `precision`."""
    nets = {p: _network(p, precision) for p in paths}
    inputs = {p: window_inputs(cfg.diffusion, cfg.data.grid_size, rows)
              for p, (_, _, cfg) in nets.items()}
    for p, (fn, _, _) in nets.items():
        fn(*inputs[p])
    seconds = {p: [] for p in paths}
    for _ in range(rounds):
        for p, (fn, _, _) in nets.items():
            start = time.perf_counter()
            for _ in range(calls):
                fn(*inputs[p])
            seconds[p].append((time.perf_counter() - start) / calls)
    first = seconds[paths[0]]
    return {p: {"ms_per_row": 1e3 * statistics.median(s) / rows,
                "ratio": statistics.median(v / b for v, b in zip(s, first)),
                "parameters": nets[p][1]} for p, s in seconds.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="+", help="training configs (TOML); the first is "
                        "the reference of the ratios")
    parser.add_argument("--rows", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--precision", nargs="+", default=["float32", "bfloat16"],
                        choices=["float32", "bfloat16"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    print(f"# {platform.node()}, {platform.processor() or platform.machine()}, torch "
          f"{torch.__version__}, {args.threads} threads, commit {commit}")
    print("| config | parameters | rows | precision | ms per row | × first config |")
    print("|---|---|---|---|---|---|")
    for precision in args.precision:
        for rows in args.rows:
            table = measure(args.configs, rows, precision, args.rounds, args.calls)
            for path, rec in table.items():
                print(f"| {Path(path).stem} | {rec['parameters'] / 1e6:.2f} M | {rows} | "
                      f"{precision} | {rec['ms_per_row']:.2f} | ×{rec['ratio']:.2f} |",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
