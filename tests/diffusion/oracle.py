"""A denoiser that knows the true trajectory: the end-to-end check of window bookkeeping.

It finds where the context it is given sits on the true trajectory (the context must be a
unique run of n_ctx consecutive true frames, else `OffTrajectory`), maps window slot w to
the true frame right after it (+ `offset`, to build a deliberately wrong oracle) and returns
the exact v-target for the z it sees (or, with predict="x", the true frame itself): ε = (z − α x)/σ, v = α ε − σ x, so x̂ = x. Context
slots get NaN, which a sampler must ignore. Every call logs, per (row, true frame index),
the logSNR the frame was given (`log`) and the z it carried and the noise ε = (z − α x)/σ
that z implies (`states`). A sampler that puts a frame's z into the wrong slot still emits
the truth (x̂ is exact whatever z is), but breaks the noise a frame carries: with η = 0 the
implied ε of a frame must stay constant over its whole lifetime.

With target="increment" the slots hold the change since the last context frame the
network is given (`rollflow.diffusion.target`), so the oracle answers for truth − context[-1].
"""

from __future__ import annotations

from collections import defaultdict

import torch


class OffTrajectory(AssertionError):
    """The context handed to the network is not on the true trajectory."""


class TrajectoryOracle:
    def __init__(self, trajectory: torch.Tensor, num_context: int, offset: int = 0,
                 predict: str = "v", target: str = "field"):
        self.trajectory = trajectory          # (B, T, H, W)
        self.predict = predict                # "v" (diffusion) or "x" (deterministic)
        self.target = target                  # "field" or "increment"
        self.num_context = num_context
        self.offset = offset
        self.calls = 0
        self.log: dict[tuple[int, int], list[float]] = defaultdict(list)
        self.states: dict[tuple[int, int], list[tuple[torch.Tensor, torch.Tensor]]] = \
            defaultdict(list)

    def locate(self, row: int, context: torch.Tensor) -> int:
        """Index i of the first true frame after the context: traj[i − C:i] == context."""
        traj, size = self.trajectory[row], self.num_context
        hits = [i for i in range(size, traj.shape[0] + 1)
                if torch.allclose(traj[i - size:i], context, rtol=0, atol=1e-9)]
        if len(hits) != 1:
            raise OffTrajectory(f"row {row}: context matches {len(hits)} positions")
        return hits[0]

    def __call__(self, x, log_snr, is_context):
        size = self.num_context
        assert is_context[:, :size].all() and not is_context[:, size:].any()
        out = torch.full_like(x, float("nan"))
        for row in range(x.shape[0]):
            start = self.locate(row, x[row, :size])
            for slot in range(x.shape[1] - size):
                index = start + slot + self.offset
                truth = self.trajectory[row, index]
                if self.target == "increment":
                    truth = truth - x[row, size - 1]
                lam = log_snr[row, size + slot]
                alpha, sigma = torch.sigmoid(lam).sqrt(), torch.sigmoid(-lam).sqrt()
                eps = (x[row, size + slot] - alpha * truth) / sigma
                out[row, size + slot] = (alpha * eps - sigma * truth if self.predict == "v"
                                         else truth)
                self.log[row, index].append(lam.item())
                self.states[row, index].append((x[row, size + slot].clone(), eps))
        self.calls += 1
        return out
