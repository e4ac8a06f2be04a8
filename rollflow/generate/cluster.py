"""Ground-truth generation on a Dask cluster (`dask.distributed`).

The coordinator (this process) allocates the store and writes its metadata once, then
submits one task per pending batch of samples. Each task simulates its batch and writes
the vorticity into its own region of the zarr store (one chunk row per sample, so tasks
never share a chunk); when a task has returned, the coordinator flags its samples complete.
A task that raises is retried (`retries`); a worker that dies mid-task is replaced by its
nanny and the scheduler runs the task elsewhere. Batches are the serial run's batches and
sample i depends only on (spec, i), so the store is bit-identical to `generate_store`'s.
An interrupted run resumes: finished batches are flagged, the rest are simulated again.

netCDF has no parallel region writes here: it stays serial (`generate_store`).

Workers that run JAX on a GPU must not preallocate its memory (JAX takes ~75 % by
default): local workers get XLA_PYTHON_CLIENT_PREALLOCATE=false in their environment,
and every task sets it before it first imports jax on a worker of an external cluster.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from rollflow import store
from rollflow.errors import ConfigError, RollflowError
from rollflow.generate.physics import batch_checks
from rollflow.generate.serial import SimulateFn, cost_line, open_pending, progress_bar
from rollflow.specs import FlowSpec

__all__ = ["WORKER_ENV", "cluster_client", "generate_store_on_cluster"]

WORKER_ENV = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "OMP_NUM_THREADS": "1"}
"""Environment of local workers: no JAX GPU preallocation, one OpenMP thread each."""


@contextlib.contextmanager
def cluster_client(*, workers: int | None = None, scheduler: str | None = None,
                   timeout_s: float = 10.0) -> Iterator[Any]:
    """A `distributed.Client`: a local cluster of `workers` single-threaded worker
    processes, or the existing scheduler at `scheduler` (e.g. `tcp://host:8786`, started
    by `dask scheduler` or dask-jobqueue). Exactly one of the two. Raises RollflowError
    naming the address if the scheduler cannot be reached within `timeout_s`."""
    if (workers is None) == (scheduler is None):
        raise ConfigError("give either a number of local workers or a scheduler address")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be ≥ 1 (got {workers})")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise RollflowError("generation on a cluster needs dask.distributed: "
                            "pip install 'rollflow[scale]'") from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError) as err:
            raise RollflowError(f"cannot reach the Dask scheduler at {scheduler} within "
                                f"{timeout_s:g} s ({type(err).__name__})") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, env=dict(WORKER_ENV)) as cluster, \
            Client(cluster) as client:
        yield client


def _simulate_batch(spec: FlowSpec, path: str, start: int, stop: int,
                    simulate_fn: SimulateFn | None, topic: str) -> range:
    """Task body on a worker: simulate samples start … stop − 1 and write their values."""
    for name, value in WORKER_ENV.items():
        os.environ.setdefault(name, value)
    if simulate_fn is None:
        from rollflow.generate.serial import default_simulate

        simulate_fn = default_simulate()
    vorticity = simulate_fn(spec, np.arange(start, stop),
                            progress=_event_reporter(topic, start))
    store.write_sample_values(path, vorticity, start, batch_checks(spec, vorticity))
    return range(start, stop)


def _event_reporter(topic: str, start: int):
    """`progress(frames)` for a task: logs (batch start, frames) on the cluster's event
    topic for the coordinator's bar; a no-op outside a worker."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return lambda frames: None
    return lambda frames: worker.log_event(topic, {"start": start, "frames": int(frames)})


class BatchProgress:
    """Frames done per batch, from the workers' progress events (which may arrive late or
    twice for a retried task) and from finished batches: each batch adds at most
    `frames × its samples` to the bar, and exactly that once it has finished."""

    def __init__(self, bar: Any, frames: int, batches: list[range]) -> None:
        self.bar = bar
        self.total = {b.start: frames * len(b) for b in batches}
        self.shown = dict.fromkeys(self.total, 0)
        self.size = {b.start: len(b) for b in batches}
        self.finished: set[int] = set()
        self.lock = threading.Lock()

    def _advance(self, start: int, amount: int) -> None:
        amount = max(0, min(amount, self.total[start] - self.shown[start]))
        self.shown[start] += amount
        self.bar.update(amount)

    def event(self, start: int, frames: int) -> None:
        """A worker simulated `frames` save intervals of every sample of batch `start`."""
        with self.lock:
            if start in self.total and start not in self.finished:
                self._advance(start, frames * self.size[start])

    def finish(self, start: int) -> None:
        with self.lock:
            self._advance(start, self.total[start])
            self.finished.add(start)


def generate_store_on_cluster(spec: FlowSpec, path: str | os.PathLike, *, client: Any,
                              batch_size: int, overwrite: bool = False,
                              progress: bool = True, command: str | None = None,
                              attrs: Mapping[str, Any] | None = None,
                              simulate_fn: SimulateFn | None = None,
                              retries: int = 2) -> Path:
    """`generate_store` with one Dask task per batch on `client`'s workers.

    Args:
        spec, path, batch_size, overwrite, command, attrs, simulate_fn: as `generate_store`
            (simulate_fn must be picklable: it runs on the workers).
        client: a `distributed.Client` (see `cluster_client`).
        progress: one bar over sample-frames of all workers, advanced as each worker
            finishes a chunk of frames (its progress events) and per finished batch.
        retries: extra attempts for a task that raises (a dead worker's task is rerun by
            the scheduler without counting here).

    Returns the store path. Raises ConfigError for a netCDF path; the first task error
    after its retries; KeyboardInterrupt cancels pending tasks and keeps finished batches.
    """
    path = Path(path)
    if store.store_format(path) == "netcdf":
        raise ConfigError(f"{path}: netCDF stores are written serially; use a .zarr output "
                          "for generation on workers, or drop --workers/--scheduler")
    with store.writer_lock(path):       # the coordinator writes metadata and flags
        return _generate_on_cluster(spec, path, client=client, batch_size=batch_size,
                                    overwrite=overwrite, progress=progress, command=command,
                                    attrs=attrs, simulate_fn=simulate_fn, retries=retries)


def _generate_on_cluster(spec: FlowSpec, path: Path, *, client: Any, batch_size: int,
                         overwrite: bool, progress: bool, command: str | None,
                         attrs: Mapping[str, Any] | None, simulate_fn: SimulateFn | None,
                         retries: int) -> Path:
    batches = open_pending(spec, path, batch_size=batch_size, overwrite=overwrite,
                           command=command, attrs=attrs)
    if not batches:
        return path
    from distributed import as_completed

    if progress:
        tqdm.write(cost_line(spec, sum(len(b) for b in batches)) +
                   f"; {len(client.scheduler_info().get('workers', {}))} workers",
                   file=sys.stderr)
    bar = progress_bar(spec, batches, progress)
    tracker = BatchProgress(bar, spec.warmup_frames + spec.num_frames, batches)
    topic = f"rollflow-progress-{path.resolve()}"     # named here: workers' paths may differ
    if progress:            # the bar moves with every chunk a worker finishes
        client.subscribe_topic(topic,
                               lambda event: tracker.event(event[1]["start"],
                                                           event[1]["frames"]))
    futures = [client.submit(_simulate_batch, spec, str(path), b.start, b.stop, simulate_fn,
                             topic, key=f"rollflow-simulate-{path.name}-{b.start}-{b.stop}",
                             retries=retries, pure=False)
               for b in batches]
    start = time.perf_counter()
    try:
        for future in as_completed(futures):
            done = future.result()
            store.mark_completed(path, done)
            tracker.finish(done.start)
            elapsed = max(time.perf_counter() - start, 1e-9)
            bar.set_postfix_str(f"{bar.n * spec.save_interval / elapsed:.2f} t.u./s",
                                refresh=False)
    finally:
        if progress:
            client.unsubscribe_topic(topic)
        for future in futures:
            future.cancel()
        bar.close()
    return path
