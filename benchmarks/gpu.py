"""GPU throughput of the KF32/KF64 backbones: training (fp32 vs bf16 autocast), sampling,
and a short KF64 training through the real loop. CUDA only; the CPU path never needs it.

    python3 benchmarks/gpu.py --out gpu.json        (benchmarks/gpu.sh runs it)

Training: the benchmark's channel-stacked U-Net (experiments/kf32/rolling.toml [net]) on
random windows at 32² and 64², `--steps` timed optimisation steps (objective + backward +
AdamW) after warm-up, with and without bf16 autocast; samples/s. Sampling: the rolling
sampler, K = 4, a batch of `--rows` trajectories, frames/s after the init phase. KF64
training: `rollflow.training.train` for `--train-steps` steps on a synthetic 64² store
(travelling waves: the loop's speed, not skill). Results go to --out as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _net_config():
    from rollflow.configio import load_toml
    from rollflow.training import train_config_from_mapping

    return train_config_from_mapping(load_toml(ROOT / "experiments/kf32/rolling.toml"),
                                     where="rolling.toml")


def _sync():
    import torch

    torch.cuda.synchronize()


def training_rate(config, size: int, batch: int, steps: int, bf16: bool) -> float:
    import torch

    from rollflow.diffusion import make_objective
    from rollflow.nets import build_network

    device = torch.device("cuda")
    net = build_network(config.net, config.num_frames).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    objective = make_objective(config.diffusion)
    frames = torch.randn(batch, config.num_frames, size, size, device=device)
    gen = torch.Generator(device=device).manual_seed(0)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss, _ = objective.loss(net, frames, generator=gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    _sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync()
    return batch * steps / (time.perf_counter() - start)


def sampling_rate(config, size: int, rows: int, frames: int) -> float:
    import torch

    from rollflow.diffusion import make_sampler
    from rollflow.nets import build_network

    device = torch.device("cuda")
    net = build_network(config.net, config.num_frames).to(device).eval()
    sampler = make_sampler(config.diffusion, net)
    context = torch.randn(rows, config.diffusion.num_context, size, size, device=device)

    def timed(n):
        _sync()
        start = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            sampler(context, n, generator=torch.Generator(device=device).manual_seed(0))
        _sync()
        return time.perf_counter() - start

    timed(2)
    extra = timed(frames + 1) - timed(1)        # init phase cancels
    return rows * frames / extra


def kf64_training(steps: int) -> dict:
    import dataclasses

    import numpy as np

    from rollflow.specs import FlowSpec
    from rollflow.store import save_dataset, trajectories_to_dataset
    from rollflow.training import train

    base = _net_config()
    config = base.replace(
        optim=dataclasses.replace(base.optim, total_steps=steps, warmup_steps=10),
        intervals=dataclasses.replace(base.intervals, log_every=10, validate_every=0,
                                      checkpoint_every=steps),
        data=dataclasses.replace(base.data, grid_size=64),
        runtime=dataclasses.replace(base.runtime, device="cuda", num_threads=None))
    x = np.arange(64) * 2 * np.pi / 64
    t = np.arange(120) * 0.2
    waves = np.stack([np.sin(x[None, :, None] + 2 * t[:, None, None] + s)
                      * np.cos(2 * x[None, None, :]) for s in range(4)]).astype(np.float32)
    spec = FlowSpec(simulation_size=256, output_size=64, num_frames=120, num_samples=4)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "kf64.zarr"
        save_dataset(trajectories_to_dataset(waves, spec), store)
        start = time.perf_counter()
        records = [r for r in train(config, store, Path(tmp) / "run") if r["kind"] == "train"]
        seconds = time.perf_counter() - start
    return {"steps": steps, "seconds": seconds, "steps_per_s": steps / seconds,
            "last_loss": records[-1]["loss"], "first_loss": records[0]["loss"]}


def main(argv=None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "outputs/gpu/gpu.json")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--train-steps", type=int, default=300)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("gpu.py: no CUDA device; nothing to measure", file=sys.stderr)
        return 2
    config = _net_config()
    result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
              "training_samples_per_s": {}, "sampling_frames_per_s": {}}
    for size, batch in ((32, 64), (64, 32)):
        for bf16 in (False, True):
            key = f"{size}^2 batch {batch} {'bf16' if bf16 else 'fp32'}"
            result["training_samples_per_s"][key] = training_rate(config, size, batch,
                                                                  args.steps, bf16)
            print(f"training {key}: {result['training_samples_per_s'][key]:.0f} samples/s",
                  flush=True)
        key = f"{size}^2 rows {args.rows} K {config.diffusion.steps_per_shift}"
        result["sampling_frames_per_s"][key] = sampling_rate(config, size, args.rows,
                                                             args.frames)
        print(f"sampling {key}: {result['sampling_frames_per_s'][key]:.0f} frames/s", flush=True)
    result["kf64_training"] = kf64_training(args.train_steps)
    print(f"KF64 training loop: {result['kf64_training']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
