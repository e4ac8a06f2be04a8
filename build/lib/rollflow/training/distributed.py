"""Data-parallel training across processes (`torchrun`, DistributedDataParallel).

`torchrun --nproc_per_node N -m rollflow train …` (or `rollflow train --nproc N`, which
launches it) starts N processes; `ProcessGroup.from_env` joins them (gloo on CPU, nccl on
CUDA). The global batch of step k is the one-process batch k: rank r loads rows
[r·B/N, (r+1)·B/N) of it, draws the local times and noise of the whole batch and keeps its
rows (`rollflow.diffusion.Shard`), so every window gets the noise it would get in one
process, and its loss is its part of the batch loss. DDP averages the gradients, so each
rank back-propagates N × its part: the synced gradient is the one-process gradient, up to
the order of float additions. Clipping, AdamW and the EMA then run identically on every
rank; rank 0 alone writes checkpoints, metrics and plots, and runs the validation.

A stop request (Ctrl-C or SIGTERM on any rank) is agreed on every step, so all ranks stop
after the same step and rank 0 checkpoints it. Dropout masks are drawn per rank (for
dropout > 0 the run is not bit-comparable to one process; all kf32 configs use 0).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import torch

from rollflow.diffusion import Shard
from rollflow.errors import ConfigError

__all__ = ["ProcessGroup"]


@dataclasses.dataclass(frozen=True)
class ProcessGroup:
    """This process's place among `world` training processes (rank 0 writes)."""

    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    @classmethod
    def from_env(cls, device: str = "auto") -> "ProcessGroup":
        """One process, or join the group torchrun describes (RANK, WORLD_SIZE, …)."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world == 1:
            return cls()
        import torch.distributed as dist

        cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if cuda else "gloo")
        return cls(rank=dist.get_rank(), world=dist.get_world_size())

    def check_batch(self, batch_size: int) -> None:
        if batch_size % self.world:
            raise ConfigError(f"{self.world} processes do not divide optim.batch_size = "
                              f"{batch_size}; choose a process count that divides it")

    def shard(self, batch_size: int) -> Shard | None:
        """This rank's rows of a global batch (None for one process)."""
        if not self.active:
            return None
        per = batch_size // self.world
        return Shard(self.rank * per, (self.rank + 1) * per, batch_size)

    def rows(self, batch_size: int) -> slice | None:
        shard = self.shard(batch_size)
        return None if shard is None else slice(shard.start, shard.stop)

    def wrap(self, network: torch.nn.Module, device: torch.device) -> Any:
        """The network for training steps: DDP over the group, or itself."""
        if not self.active:
            return network
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(network, device_ids=ids, broadcast_buffers=False)

    def sum(self, value: float) -> float:
        """Σ over ranks of a scalar."""
        if not self.active:
            return value
        import torch.distributed as dist

        tensor = torch.tensor([value], dtype=torch.float64)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return float(tensor.item())

    def any(self, flag: bool) -> bool:
        """True on every rank if `flag` is True on any rank."""
        return self.sum(1.0 if flag else 0.0) > 0 if self.active else flag

    def barrier(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.barrier()

    def close(self) -> None:
        if self.active:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
