"""Training throughput (eager vs torch.compile) and per-frame sampling cost, side by side.

    flock /tmp/rollflow-heavy.lock .venv/bin/python benchmarks/training.py [--write-docs]

Training: each variant runs in its own subprocess (so peak RSS, from
`resource.getrusage(RUSAGE_SELF).ru_maxrss`, belongs to that variant alone; tracemalloc does
not see torch's allocator). A variant builds the network of CONFIG (default
experiments/rolling_kf32.toml), takes `--warmup` steps (for torch.compile: the cold compile),
then times `--steps` optimisation steps (objective + backward + clip + AdamW) on a fixed
random batch: the model's compute, without store reads. The "loop" variant runs
`rollflow.training.train` end to end on a synthetic store (store reads, EMA, logging
included). Sampling: the real samplers of rollflow.diffusion on the untrained network,
cost per emitted frame measured as the difference between two forecast lengths, so the
rolling sampler's init phase is excluded (it is reported separately).

`--write-docs` replaces the "## Training and sampling" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Training and sampling"


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _train_step_fn(config, compile_: bool, bf16: bool = False):
    import torch

    from rollflow.diffusion import make_objective
    from rollflow.nets import build_network
    from rollflow.nets.precision import autocast_bf16

    torch.manual_seed(0)
    network = build_network(config.net, config.num_frames)
    forward = torch.compile(network) if compile_ else network
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.optim.lr)
    objective = make_objective(config.diffusion)
    size = config.data.grid_size
    frames = torch.randn(config.optim.batch_size, config.num_frames, size, size)

    def step(index: int) -> None:
        generator = torch.Generator().manual_seed(index)
        with autocast_bf16(torch.device("cpu"), bf16):
            loss, _ = objective.loss(forward, frames, generator=generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), config.optim.grad_clip)
        optimizer.step()
    return step


def _synthetic_store(config, directory: Path) -> Path:
    import numpy as np

    from rollflow.specs import FlowSpec
    from rollflow.store import save_dataset, trajectories_to_dataset

    size = config.data.grid_size
    spec = FlowSpec(simulation_size=size, output_size=size, num_frames=40, num_samples=4,
                    warmup_time=0.0)
    values = np.random.default_rng(0).standard_normal((4, 40, size, size), dtype=np.float32)
    path = directory / "synthetic.zarr"
    save_dataset(trajectories_to_dataset(values, spec), path)
    return path


def _time_loop(config, args: argparse.Namespace) -> tuple[float, float]:
    """(steps/s after warm-up, warm-up seconds) of `train` on a synthetic store."""
    from rollflow.training import train
    from rollflow.training.config import IntervalsConfig, OptimConfig

    config = config.replace(
        optim=OptimConfig(**{**config.optim.__dict__,
                             "total_steps": args.warmup + args.steps}),
        intervals=IntervalsConfig(log_every=10**6, validate_every=0,
                                  checkpoint_every=10**9))
    with tempfile.TemporaryDirectory() as tmp:
        store = _synthetic_store(config, Path(tmp))
        start, stamps = time.perf_counter(), []
        for record in train(config, store, Path(tmp) / "run"):
            if record["kind"] == "step":
                stamps.append(time.perf_counter())
    return args.steps / (stamps[-1] - stamps[args.warmup - 1]), stamps[args.warmup - 1] - start


def run_variant(args: argparse.Namespace) -> dict:
    """Child process: time one training variant; returns its result row."""
    import torch

    from rollflow.training import load_train_config

    config = load_train_config(args.config)
    torch.set_num_threads(args.threads)
    base = _rss_mib()
    if args.variant == "loop":
        rate, warm_s = _time_loop(config, args)
    else:
        step = _train_step_fn(config, compile_=args.variant == "compile",
                              bf16=args.variant == "bf16")
        start = time.perf_counter()
        for i in range(args.warmup):
            step(i)
        warm_s = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(args.steps):
            step(args.warmup + i)
        rate = args.steps / (time.perf_counter() - start)
    return {"variant": args.variant, "steps_per_s": rate,
            "samples_per_s": rate * config.optim.batch_size, "warmup_s": warm_s,
            "peak_rss_mib": _rss_mib(), "rss_growth_mib": _rss_mib() - base,
            "batch_size": config.optim.batch_size, "threads": args.threads}


def sampling_costs(args: argparse.Namespace) -> list[dict]:
    """Calls and seconds per emitted frame: rolling (K) vs standard (N = W·K) vs deterministic."""
    import torch

    from rollflow.diffusion import make_sampler
    from rollflow.nets import build_network
    from rollflow.training import load_train_config

    torch.set_num_threads(args.threads)
    config = load_train_config(args.config)
    torch.manual_seed(0)
    network = build_network(config.net, config.num_frames).eval()
    size, d = config.data.grid_size, config.diffusion
    context = torch.randn(args.members, d.num_context, size, size)
    rows = []
    for mode in ("rolling", "standard", "deterministic"):
        sampler = make_sampler(d.replace(mode=mode), network)
        cost = {}
        for frames in (d.window_size, d.window_size * (1 + args.windows)):
            start = time.perf_counter()
            sampler(context, frames, generator=torch.Generator().manual_seed(0))
            cost[frames] = (sampler.stats.network_calls, time.perf_counter() - start)
        (c1, s1), (c2, s2) = cost.values()
        extra = d.window_size * args.windows
        rows.append({"mode": mode, "calls_per_frame": (c2 - c1) / extra,
                     "seconds_per_frame": (s2 - s1) / extra,
                     "first_window_calls": c1, "first_window_s": s1})
    return rows


def _relative(path: str) -> str:
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


def _machine() -> str:
    import torch
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    return (f"{model}, {os.cpu_count()} cores (shared), Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                         capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "rollflow", "benchmarks"],
                           cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return out + (" (+ uncommitted changes)" if dirty else "")


def render(rows: list[dict], sampling: list[dict], args: argparse.Namespace) -> str:
    """The markdown section: context line, training table, sampling table."""
    from rollflow.training import load_train_config
    from rollflow.nets import build_network, count_parameters

    config = load_train_config(args.config)
    d, size = config.diffusion, config.data.grid_size
    params = count_parameters(build_network(config.net, config.num_frames))
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    eager = next(r for r in rows if r["variant"] == "eager")["samples_per_s"]
    lines = [SECTION, "",
             f"`flock /tmp/rollflow-heavy.lock .venv/bin/python benchmarks/training.py "
             f"--write-docs` — {now}, commit {_commit()}; {_machine()}; "
             f"torch threads {args.threads}.",
             f"Model: `{_relative(args.config)}` ({params / 1e6:.2f} M parameters, "
             f"{size}², n_ctx = {d.num_context}, W = {d.window_size}, batch "
             f"{config.optim.batch_size} windows = {config.optim.batch_size * config.num_frames}"
             f" frames per step). Training: {args.warmup} warm-up steps, then {args.steps} timed; "
             "peak RSS of the variant's own process.", "",
             "| variant | samples/s | steps/s | vs eager | warm-up (s) | peak RSS (MiB) | "
             "RSS growth after imports (MiB) |", "|---|---|---|---|---|---|---|"]
    names = {"eager": "eager, compute only", "compile": "torch.compile, compute only",
             "bf16": "eager, bf16 autocast (CPU), compute only",
             "loop": "eager, full `train` loop (store reads, EMA)"}
    for r in rows:
        lines.append(f"| {names[r['variant']]} | {r['samples_per_s']:.2f} | "
                     f"{r['steps_per_s']:.3f} | {r['samples_per_s'] / eager:.2f}× | "
                     f"{r['warmup_s']:.1f} | {r['peak_rss_mib']:.0f} | "
                     f"{r['rss_growth_mib']:.0f} |")
    lines += ["", f"Sampling on the untrained network, ensemble of {args.members}, "
              f"K = {d.steps_per_shift}, standard N = W·K = {d.num_standard_steps}; per emitted "
              f"frame = difference between {d.window_size} and "
              f"{d.window_size * (1 + args.windows)} frames (rolling init phase excluded, "
              "shown in the last columns).", "",
              "| sampler | network calls / frame | s / frame (all members) | "
              "first W frames: calls | first W frames: s |", "|---|---|---|---|---|"]
    for r in sampling:
        lines.append(f"| {r['mode']} | {r['calls_per_frame']:.2f} | "
                     f"{r['seconds_per_frame']:.3f} | {r['first_window_calls']} | "
                     f"{r['first_window_s']:.2f} |")
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    """Replace the "## Training and sampling" section of docs/performance.md, nothing else."""
    path = ROOT / "docs" / "performance.md"
    doc = path.read_text()
    start = doc.index(SECTION)
    end = doc.find("\n## ", start + len(SECTION))
    tail = doc[end + 1:] if end >= 0 else ""
    path.write_text(doc[:start] + text + ("\n" + tail if tail else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(ROOT / "experiments" / "rolling_kf32.toml"))
    parser.add_argument("--variants", default="eager,compile,loop")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--members", type=int, default=4, help="sampling batch (ensemble)")
    parser.add_argument("--windows", type=int, default=2,
                        help="extra windows of frames for the per-frame difference")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    if args.variant:
        print(json.dumps(run_variant(args)))
        return 0
    rows = []
    for variant in args.variants.split(","):
        cmd = [sys.executable, __file__, "--variant", variant, "--config", args.config,
               "--warmup", str(args.warmup), "--steps", str(args.steps),
               "--threads", str(args.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(rows[-1], file=sys.stderr)
    sampling = sampling_costs(args)
    text = render(rows, sampling, args)
    print(text)
    if args.write_docs:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
