"""Benchmark the jax-cfd spectral solver behind `rollflow.solver`.

Measures, side by side in one run (compile time excluded: every timed call is preceded by
an identical untimed one):

1. Solver cost per simulated t.u. and saved frames per second at 64², 128², 256² (spec
   defaults: Re = 1000, CFL step, save every 0.2 t.u.), for
   - one trajectory at a time with an unbatched jitted kernel,
   - the public API `rollflow.solver.integrate` with batch B (one jitted chunk runs the
     samples one after another with `lax.map`; includes truncation and blow-up checks),
   - the same chunk kernel batched with `jax.vmap` (`make_kernels(..., vectorized=True)`).
2. One CN-RK4 step against the FFTs it must do: jax-cfd's `NavierStokes2D` evaluates its
   explicit term 5 times per step, each with 4 irfft2 and 1 rfft2 (25 FFTs; XLA also keeps
   2 rfft2 of the constant forcing per step, 27 in all — see `FFTS_PER_STEP`). The lower
   bound is a jitted chain of exactly 20 irfft2 + 5 rfft2 per step at the same size. Both
   run in the solver's loop structure (frames × `steps_per_frame` steps): a flat loop of
   steps measured ≈ 1.3× slower per step than the nested one.

    python benchmarks/solver.py            # full, ≈ 6 min on 2 shared cores
    python benchmarks/solver.py --quick    # ≈ 1 min
    python benchmarks/solver.py --write    # also replace the table in docs/performance.md

On a shared machine run it as `flock /tmp/rollflow-heavy.lock python benchmarks/solver.py`.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import jax_cfd
import numpy as np
from jax_cfd.base import funcutils

from rollflow.solver import integrate, random_initial_vorticity
from rollflow.solver.equation import FFTS_PER_STEP, StepConfig, make_frame_fn, make_step_fn
from rollflow.solver.trajectory import make_kernels, chunk_frames
from rollflow.specs import FlowSpec

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- solver-benchmark:start -->", "<!-- solver-benchmark:end -->"
FULL = {"sizes": (64, 128, 256), "batches": (1, 2, 4, 8),
        "duration": {64: 2.0, 128: 0.6, 256: 0.2}, "repeats": 2}
QUICK = {"sizes": (64, 128), "batches": (1, 4),
         "duration": {64: 2.0, 128: 0.4, 256: 0.2}, "repeats": 1}


def _best_time(fn: Callable[[], object], repeats: int) -> float:
    """Seconds of the fastest of `repeats` calls, after one untimed (compiling) call."""
    jax.block_until_ready(fn())
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - start)
    return best


def _spec(size: int) -> FlowSpec:
    return FlowSpec(simulation_size=size, output_size=min(size, 64), save_interval=0.2)


def time_unbatched(spec: FlowSpec, omega: np.ndarray, duration: float, repeats: int) -> float:
    """Seconds per simulated t.u. for one trajectory with an unbatched jitted kernel."""
    frames = round(duration / spec.save_interval)
    frame_fn = make_frame_fn(StepConfig.from_spec(spec))
    run = jax.jit(lambda state: jax.lax.fori_loop(0, frames, lambda _, s: frame_fn(s), state))
    state = jnp.fft.rfft2(jnp.asarray(omega[0]))
    return _best_time(lambda: run(state), repeats) / duration


def time_batched(spec: FlowSpec, omega: np.ndarray, duration: float, repeats: int) -> float:
    """Seconds per simulated t.u. for the whole batch through `rollflow.solver.integrate`."""
    frames = round(duration / spec.save_interval) + 1
    return _best_time(lambda: integrate(spec, omega, frames), repeats) / duration


def time_vmapped(spec: FlowSpec, omega: np.ndarray, duration: float, repeats: int) -> float:
    """Seconds per simulated t.u. for the whole batch through the vmap chunk kernel."""
    num_chunk = chunk_frames(spec)
    kernels = make_kernels(StepConfig.from_spec(spec), spec.output_size, num_chunk,
                            vectorized=True)
    state = jnp.fft.rfft2(jnp.asarray(omega))
    counts = []
    left = round(duration / spec.save_interval)
    while left > 0:
        counts.append(min(num_chunk, left))
        left -= counts[-1]

    def run():
        s = state
        for count in counts:
            s, frames, speed = kernels.chunk_fn(s, count)
            np.asarray(frames), np.asarray(speed)  # the API copies these out per chunk too
        return s

    return _best_time(run, repeats) / duration


def time_step_and_ffts(spec: FlowSpec, omega: np.ndarray, repeats: int) -> tuple[float, float]:
    """(seconds per CN-RK4 step, seconds for 20 irfft2 + 5 rfft2), one trajectory."""
    per_frame = spec.steps_per_frame
    frames = max(2, round(2e7 / spec.simulation_size**2 / per_frame))
    steps = frames * per_frame
    step_fn = make_step_fn(StepConfig.from_spec(spec))
    n = spec.simulation_size
    weights = (1.0, 0.5, 0.25, 0.125)  # distinct, so XLA cannot merge the four irfft2
    norm = 1.0 / sum(weights)

    def fft_step(x_hat):  # 5 × (4 irfft2 + 1 rfft2); x_hat is reproduced up to round-off
        for _ in range(5):
            fields = [jnp.fft.irfft2(x_hat * w, s=(n, n)) for w in weights]
            x_hat = jnp.fft.rfft2(sum(fields)) * norm
        return x_hat

    def looped(fn):  # frames × steps_per_frame, as in the solver
        inner = funcutils.repeated(fn, per_frame)
        return jax.jit(lambda s: jax.lax.fori_loop(0, frames, lambda _, x: inner(x), s))

    state = jnp.fft.rfft2(jnp.asarray(omega[0]))
    step_time = _best_time(lambda: looped(step_fn)(state), repeats) / steps
    fft_time = _best_time(lambda: looped(fft_step)(state), repeats) / steps
    return step_time, fft_time


def _machine() -> list[str]:
    cpu = platform.processor() or "unknown"
    try:
        info = Path("/proc/cpuinfo").read_text().splitlines()
        names = [ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "rollflow/solver",
                                "benchmarks/solver.py"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
        commit += " + uncommitted solver changes" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [f"- machine: {cpu}, {os.cpu_count()} cores ({usable} usable), "
            f"load average at start {load} (shared machine)",
            f"- date (start): {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
            f"commit {commit}; jax {jax.__version__} ({jax.default_backend()}), "
            f"jax-cfd {getattr(jax_cfd, '__version__', '?')}, float32"]


def run(config: dict, log: Callable[[str], None]) -> str:
    """Run every measurement; return the markdown report."""
    machine = _machine()  # load average and date at the start of the run
    cost_rows, fft_rows = [], []
    for size in config["sizes"]:
        spec = _spec(size)
        duration = config["duration"][size]
        omega = random_initial_vorticity(spec, list(range(max(config["batches"]))))
        single = time_unbatched(spec, omega, duration, config["repeats"])
        log(f"{size}² one trajectory, unbatched kernel: {single:.4f} s/t.u.")
        cost_rows.append((size, "1 (unbatched kernel)", single, 1.0))
        for batch in config["batches"]:
            per = time_batched(spec, omega[:batch], duration, config["repeats"]) / batch
            log(f"{size}² batch {batch} API (lax.map): {per:.4f} s/t.u. per trajectory")
            cost_rows.append((size, f"{batch} (API, lax.map)", per, batch))
        for batch in config["batches"]:
            per = time_vmapped(spec, omega[:batch], duration, config["repeats"]) / batch
            log(f"{size}² batch {batch} vmap kernel: {per:.4f} s/t.u. per trajectory")
            cost_rows.append((size, f"{batch} (vmap kernel)", per, batch))
        step, ffts = time_step_and_ffts(spec, omega, config["repeats"])
        log(f"{size}² step {step * 1e3:.3f} ms, 25 FFTs {ffts * 1e3:.3f} ms")
        fft_rows.append((size, spec.steps_per_frame, step, ffts))
    frames_per_tu = 1 / 0.2
    lines = [f"Command: `{config['command']}` (under `flock /tmp/rollflow-heavy.lock`).",
             *machine, "",
             "Cost per trajectory (Re = 1000, CFL step, frames every 0.2 t.u.; compile time "
             "excluded; best of "
             f"{config['repeats']}):", "",
             "| grid | batch | s per t.u. per trajectory | frames/s (whole batch) "
             "| speed-up per trajectory vs unbatched |",
             "|---|---|---|---|---|"]
    reference = {}
    for size, label, per, batch in cost_rows:
        reference.setdefault(size, per)
        lines.append(f"| {size}² | {label} | {per:.4f} | {frames_per_tu / per:.1f} "
                     f"| {reference[size] / per:.2f}× |")
    count = FFTS_PER_STEP["irfft2"] + FFTS_PER_STEP["rfft2"]
    lines += ["", f"One CN-RK4 step vs its FFTs ({FFTS_PER_STEP['irfft2']} irfft2 + "
              f"{FFTS_PER_STEP['rfft2']} rfft2 = {count} per step, counted in jax-cfd's "
              f"source; the compiled step also keeps {FFTS_PER_STEP['rfft2_forcing']} rfft2 "
              "of the constant forcing), one trajectory, unbatched:", "",
              "| grid | steps per frame | step (ms) | 25 FFTs alone (ms) | step / FFTs "
              "| step × steps per t.u. (s) |",
              "|---|---|---|---|---|---|"]
    for size, spf, step, ffts in fft_rows:
        lines.append(f"| {size}² | {spf} | {step * 1e3:.3f} | {ffts * 1e3:.3f} "
                     f"| {step / ffts:.2f} | {step * spf * frames_per_tu:.4f} |")
    return "\n".join(lines)


def write_section(report: str, path: Path = DOC) -> None:
    """Put `report` between the solver markers in the "## Solver" section of `path`."""
    text = path.read_text()
    block = f"{START}\n{report}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        head, rest = text.split("## Solver\n", 1)
        nxt = rest.find("\n## ")
        body, tail = (rest, "") if nxt < 0 else (rest[:nxt + 1], rest[nxt + 1:])
        keep = "\n".join(ln for ln in body.splitlines()
                         if ln and not ln.startswith("(filled by"))
        text = head + "## Solver\n\n" + (keep + "\n\n" if keep else "") + block + "\n\n" + tail
    path.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="≈ 1 minute: 64² and 128², B = 1, 4")
    parser.add_argument("--write", action="store_true",
                        help=f"write the table into {DOC.relative_to(ROOT)} (## Solver)")
    parser.add_argument("--sizes", type=int, nargs="+", help="override the grid sizes")
    parser.add_argument("--batches", type=int, nargs="+", help="override the batch sizes")
    args = parser.parse_args(argv)
    config = dict(QUICK if args.quick else FULL)
    if args.sizes:
        config["sizes"] = tuple(args.sizes)
        config["duration"] = {n: config["duration"].get(n, 0.4 * (256 / n) ** 2)
                              for n in args.sizes}
    if args.batches:
        config["batches"] = tuple(args.batches)
    config["command"] = " ".join(["python benchmarks/solver.py", *(argv or sys.argv[1:])])
    start = time.perf_counter()
    report = run(config, log=lambda s: print(s, flush=True))
    print(f"\n(total {time.perf_counter() - start:.0f} s)\n\n{report}")
    if args.write:
        write_section(report)
        print(f"\nwrote {DOC}")


if __name__ == "__main__":
    main()
