"""Per-call speed of a trained network on this CPU, each option side by side with float32.

    .venv/bin/python benchmarks/call_speed.py MODEL [--rows 8 64] [--rounds 7] [--write]

One network call = one forward pass over `rows` windows (rows = samples × members of one
sampler call). Options (rollflow.forecast.speed): inference mode, channels-last, bf16
autocast (native bf16 only), both, and torch.compile with frozen weights. Timed in
interleaved rounds (A B C … A B C …, median per option) so machine-load drift hits every
option alike; each is reported as a ratio to the float32 no-grad baseline of the same
round, with the relative output difference from it. --write puts the table in
docs/figures/call_speed.json (quoted by docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def _inputs(model, rows: int):
    return window_inputs(model.config.diffusion, model.grid_size, rows)


def window_inputs(cfg, n: int, rows: int):
    """Random inputs of one network call over `rows` windows of n² frames (fixed seed):
    frames (rows, n_ctx + W, n, n), log-SNR (rows, n_ctx + W), context mask."""
    frames = cfg.num_context + cfg.window_size
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(rows, frames, n, n, generator=gen)
    lam = torch.rand(rows, frames, generator=gen) * 30 - 15
    ctx = torch.zeros(rows, frames, dtype=torch.bool)
    ctx[:, :cfg.num_context] = True
    return x, lam, ctx


def _variants(model):
    import copy

    from rollflow.forecast.speed import InferenceOptions, fast_network

    def plain(net):
        def call(x, lam, ctx):
            with torch.no_grad():
                return net(x, lam, ctx)
        return call

    out = {"float32 no_grad (today)": plain(model.network)}
    for name, options in [("inference_mode", InferenceOptions()),
                          ("channels_last", InferenceOptions(channels_last=True)),
                          ("bf16 autocast", InferenceOptions(precision="bfloat16")),
                          ("bf16 + channels_last",
                           InferenceOptions(precision="bfloat16", channels_last=True))]:
        net = copy.deepcopy(model.network)
        fast = fast_network(net, options)
        if fast is net:
            out[name] = lambda x, l, c, net=net: _infer(net, x, l, c)
        else:
            out[name] = fast
    return out


def _infer(net, x, lam, ctx):
    with torch.inference_mode():
        return net(x, lam, ctx)


def _compiled(model):
    import copy

    import torch._inductor.config as inductor

    inductor.freezing = True
    net = torch.compile(copy.deepcopy(model.network))
    return lambda x, l, c: _infer(net, x, l, c)


def measure(model, rows: int, rounds: int, calls: int, compile_too: bool) -> dict:
    variants = _variants(model)
    if compile_too:
        start = time.perf_counter()
        variants["torch.compile (frozen)"] = _compiled(model)
        x, lam, ctx = _inputs(model, rows)
        variants["torch.compile (frozen)"](x, lam, ctx)
        compile_seconds = time.perf_counter() - start
    x, lam, ctx = _inputs(model, rows)
    reference = variants["float32 no_grad (today)"](x, lam, ctx).float()
    seconds = {name: [] for name in variants}
    for fn in variants.values():
        fn(x, lam, ctx)
    for _ in range(rounds):
        for name, fn in variants.items():
            start = time.perf_counter()
            for _ in range(calls):
                out = fn(x, lam, ctx)
            seconds[name].append((time.perf_counter() - start) / calls)
    base = seconds["float32 no_grad (today)"]
    table = {}
    for name, values in seconds.items():
        ratios = [b / v for b, v in zip(base, values)]
        out = variants[name](x, lam, ctx).float()
        table[name] = {"seconds_per_call": statistics.median(values),
                       "ms_per_row": 1e3 * statistics.median(values) / rows,
                       "speed_up": statistics.median(ratios),
                       "relative_output_difference":
                           float((out - reference).norm() / reference.norm())}
    if compile_too:
        table["torch.compile (frozen)"]["compile_seconds"] = compile_seconds
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="run directory or shipped model name")
    parser.add_argument("--rows", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compile", action="store_true", help="also torch.compile (slow)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    from rollflow.forecast.speed import native_bf16
    from rollflow.training import load_trained

    torch.set_num_threads(args.threads)
    model = load_trained(args.model)
    result = {"model": args.model, "threads": args.threads, "native_bf16": native_bf16(),
              "machine": platform.node(), "torch": torch.__version__,
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                       capture_output=True, text=True).stdout.strip(),
              "rows": {}}
    for rows in args.rows:
        result["rows"][str(rows)] = measure(model, rows, args.rounds, args.calls, args.compile)
        for name, rec in result["rows"][str(rows)].items():
            print(f"rows {rows:3d}  {name:26s} {rec['ms_per_row']:7.2f} ms/row  "
                  f"×{rec['speed_up']:.2f}  rel. diff {rec['relative_output_difference']:.1e}",
                  flush=True)
    if args.write:
        path = ROOT / "docs/figures/call_speed.json"
        path.write_text(json.dumps(result, indent=1))
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
