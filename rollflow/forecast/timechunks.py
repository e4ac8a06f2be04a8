"""One batch of a long rollout, written a chunk of frames at a time and resumable within.

`run_batch_in_chunks` runs the sampler `settings.time_chunk` frames at a time, hands each
chunk to the caller to write, then saves where the sampler stopped — its `SamplerState`
(the last context frames and the rolling window) and the generator's state — in
`<partial>/batch_<first>.pt` (written to a temporary file and renamed, so a file on disk is
always whole); once the batch is finished the file goes. Interrupted, the same call continues after the last saved chunk, and the
batch equals the uninterrupted one bit for bit (`diffusion.sampling.SamplerState`). A chunk
written but not yet saved is simply computed and written again, with the same values.
"""

from __future__ import annotations

import os
import time as _time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from rollflow.diffusion import SamplerState
from rollflow.errors import DataError, StoreError
from rollflow.forecast.rollout import (ForecastModel, ForecastPlan, ForecastSettings,
                                       batch_context, emitted_values)

__all__ = ["run_batch_in_chunks", "partial_dir", "check_time_chunk", "BatchCost"]

BatchCost = tuple[int, float]
"""(network calls, wall seconds) a whole batch took, over all its runs."""


def partial_dir(path: Path) -> Path:
    """Where a store's unfinished batches keep their sampler states: beside the store."""
    return path.with_name(path.name + ".partial")


def check_time_chunk(plan: ForecastPlan, settings: ForecastSettings) -> None:
    """DataError unless the sampler can stop and continue after every chunk: block samplers
    (standard, deterministic) emit W frames per block, so the chunk must be a multiple."""
    chunk, width = settings.time_chunk, plan.config.window_size
    if chunk is not None and plan.config.mode != "rolling" and chunk % width:
        raise DataError(f"time_chunk {chunk} must be a multiple of the window ({width} frames) "
                        f"for a {plan.config.mode} model")


def _load(file: Path, device: torch.device) -> dict | None:
    if not file.exists():
        return None
    try:
        return torch.load(file, map_location=device, weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable state is the same refusal
        raise StoreError(f"{file} is unreadable ({err}); delete it to redo that batch") from None


def _save(file: Path, saved: dict) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".tmp")
    torch.save(saved, tmp)
    os.replace(tmp, file)


def run_batch_in_chunks(model: ForecastModel, plan: ForecastPlan, settings: ForecastSettings,
                        first: int, partial: Path,
                        write: Callable[[np.ndarray, int], None],
                        done_with: Callable[[BatchCost], None],
                        progress: Callable[[int], None] | None = None) -> None:
    """Forecast samples first … first + B − 1 chunk by chunk (resuming a saved chunk).

    Args:
        model, plan, settings: as for `rollout.run_batch`; `settings.time_chunk` frames per
            chunk (None: the whole batch at once).
        partial: the directory of saved sampler states (`partial_dir` of the store).
        write: called with each chunk's values (B, members, chunk, x, y) and its first frame.
        done_with: called once the last chunk is written, with the network calls and wall
            seconds of the whole batch (earlier runs' included): the caller records the
            cost and flags the batch finished; its saved state is removed after.
        progress: called with the frames of each chunk this call computes (after
            `done_with` for the last), so an interrupt there loses nothing.
    """
    file = partial / f"batch_{first}.pt"
    block, context = batch_context(model, plan, settings, first)
    generator = torch.Generator(device=plan.device).manual_seed(settings.seed + first)
    done, calls, seconds, state = 0, 0, 0.0, None
    if (saved := _load(file, plan.device)) is not None:
        done, calls, seconds = saved["frames_done"], saved["calls"], saved["seconds"]
        generator.set_state(saved["generator"].cpu())
        state = SamplerState(saved["context"], saved.get("window"))
    chunk = settings.time_chunk or settings.num_frames
    while done < settings.num_frames:
        count, start = min(chunk, settings.num_frames - done), _time.perf_counter()
        frames = plan.sampler(context, count, generator=generator, state=state)
        values = emitted_values(model, plan, settings, frames, block)
        seconds += _time.perf_counter() - start          # the write is not the model's cost
        write(values, done)
        state, done = plan.sampler.state, done + count
        calls += plan.sampler.stats.network_calls
        if done < settings.num_frames:
            _save(file, {"frames_done": done, "calls": calls, "seconds": seconds,
                         "generator": generator.get_state(), "context": state.context,
                         **({"window": state.window} if state.window is not None else {})})
        else:
            done_with((calls, seconds))
            file.unlink(missing_ok=True)
        if progress is not None:
            progress(count)
