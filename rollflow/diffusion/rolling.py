"""The rolling-diffusion sampler (Ruhe et al. 2024): one frame emitted per K network calls.

Window of W slots behind n_ctx clean context frames; slot w = 0 is the next frame.

1. Init: every slot starts as N(0, I); `init_steps` steps of global t from 1 to 0 on the
   init map τ_w = clip(w/W + t, 0, 1) bring the window to τ_w = w/W. Slots whose τ stays
   clipped at 1 during a step are left untouched.
2. Emit: slot 0 is at τ = 0, i.e. exactly the clean prediction x̂. It is emitted and
   appended to the context (the last n_ctx emitted/context frames are kept), every slot
   moves down one, and a fresh N(0, I) frame enters slot W − 1 at τ = 1.
3. Roll: K steps of t from 1 to 0 on the rolling map τ_w = (w + t)/W, each one network
   call and one DDIM/ancestral update of every slot from τ_w(t) to τ_w(s); back to 2.

Target: the window holds the config's `target` values (`rollflow.diffusion.target`); an
emitted slot is decoded against the context, and with the "increment" target the slots
left in the window are rebased on the emitted frame (exact, the noise is untouched).

Ending (a choice): the sampler keeps rolling until num_frames frames are emitted and
discards the partly denoised frames left in the window, so every frame beyond the first
W gets its full W·K updates and the output does not depend on num_frames (a longer run
extends a shorter one with the same generator state; a call given the `SamplerState` of the
previous one continues it exactly, which is how long rollouts are written and resumed
chunk by chunk). Cost: init_steps + (num_frames − 1)·K
network calls.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rollflow.diffusion.denoiser import Denoiser
from rollflow.diffusion.local_time import local_times
from rollflow.diffusion.sampling import (
    ProgressFn, SamplerBase, SamplerState, fresh_noise, time_grid, update_window,
)
from rollflow.diffusion.target import decode, rebase

__all__ = ["RollingSampler"]


class RollingSampler(SamplerBase):
    """Rolling-diffusion sampler for `config.mode == "rolling"` models.

    Args:
        network: v-predicting backbone (see `rollflow.diffusion.Network`); the caller puts
            it in eval mode.
        config: window size W, context n_ctx, steps_per_shift K, init_steps, eta, schedule.

    Attributes:
        stats: `SampleStats` of the last call (network calls, emitted frames).
    """

    def generate(self, denoiser: Denoiser, context: Tensor, num_frames: int,
                 generator: torch.Generator | None, progress: ProgressFn | None,
                 state: SamplerState | None) -> tuple[Tensor, SamplerState]:
        """Init phase (or the roll after `state`'s last emission), then emit one frame per
        K steps until num_frames are out; the state is taken right after the last one."""
        cfg = self.config
        emitted: list[Tensor] = []
        if state is None:
            window = fresh_noise(context, cfg.window_size, generator)
            window = self.phase(denoiser, context, window, "init", cfg.num_init_steps,
                                generator)
        else:
            window = self.shift(denoiser, context, state.window, generator)
        while True:
            frame = decode(window[:, :1], context, cfg.target)
            emitted.append(frame[:, 0])
            context = torch.cat([context, frame], dim=1)[:, -cfg.num_context:]
            if progress is not None:
                progress(len(emitted))
            if len(emitted) == num_frames:
                break
            window = self.shift(denoiser, context, window, generator)
        return torch.stack(emitted, dim=1), SamplerState(context, window)

    def shift(self, denoiser: Denoiser, context: Tensor, window: Tensor,
              generator: torch.Generator | None) -> Tensor:
        """After an emission: slots move down one, fresh noise enters the last, K steps."""
        cfg = self.config
        remaining_tau = local_times(torch.zeros((), dtype=context.dtype, device=context.device),
                                    cfg.window_size, "rolling")[1:]
        rest = rebase(window[:, 1:], remaining_tau, window[:, :1], self.schedule, cfg.target)
        window = torch.cat([rest, fresh_noise(context, 1, generator)], dim=1)
        return self.phase(denoiser, context, window, "rolling", cfg.steps_per_shift, generator)

    def phase(self, denoiser: Denoiser, context: Tensor, window: Tensor, mode: str,
              num_steps: int, generator: torch.Generator | None) -> Tensor:
        """num_steps steps of global t from 1 to 0 on the `mode` local-time map."""
        grid = time_grid(num_steps, context)
        for t, s in zip(grid[:-1], grid[1:]):
            window = self.step(denoiser, context, window, local_times(t, window.shape[1], mode),
                               local_times(s, window.shape[1], mode), generator)
        return window

    def step(self, denoiser: Denoiser, context: Tensor, window: Tensor, tau_t: Tensor,
             tau_s: Tensor, generator: torch.Generator | None) -> Tensor:
        """One network call: every slot from τ_t (W,) to τ_s (W,)."""
        return update_window(denoiser, context, window, tau_t, tau_s, eta=self.config.eta,
                             generator=generator)
