"""Initial-condition ensembles: members start from slightly different states.

A 32² state is the truncation of a finer flow: many fine states share it, and they part
within a few Lyapunov times. A forecast that starts every member from the same context
leaves that uncertainty to the sampler's noise alone (the rolling model's spread–skill
ratio is ≈ 0.6–0.85 over the first 2 t.u.: too little spread). Here member 0 is the
control (the context as given) and every other member starts from the context plus a small
random field, as in a weather centre's perturbed ensemble:

    ω̃_m = ω + ε σ η_m,   m ≥ 1,

η_m white Gaussian noise on the grid with its spatial mean removed (a periodic flow's
vorticity has none), the same field on every context frame of the member (a perturbed
state, not a perturbed tendency); σ is the model's normalisation scale (the training
data's standard deviation of ω), so ε is relative. The draws come from their own generator
(seeded by the forecast's seed and the batch), so the sampler's noise, and the control
member, are those of the unperturbed forecast.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["perturbation_generator", "perturb_members"]

_STREAM = 15          # keeps these draws apart from the symmetry elements' (14)


def perturbation_generator(seed: int, first: int, device: torch.device) -> torch.Generator:
    """The generator of the batch whose first sample is `first` (independent of the
    sampler's, which is seeded with seed + first)."""
    state = int(np.random.SeedSequence([seed, first, _STREAM]).generate_state(1)[0])
    return torch.Generator(device=device).manual_seed(state)


def perturb_members(context: torch.Tensor, num_members: int, amplitude: float,
                    generator: torch.Generator) -> torch.Tensor:
    """(B·M, n_ctx, x, y) normalised context, row b·M + m = member m of sample b → the
    same with `amplitude` · η added to every member m ≥ 1 (η: unit-variance white noise,
    zero spatial mean, one field per row shared by its context frames). amplitude 0 or one
    member: the context itself."""
    if amplitude == 0.0 or num_members == 1:
        return context
    rows, _, nx, ny = context.shape
    noise = torch.randn((rows, 1, nx, ny), generator=generator, device=context.device,
                        dtype=torch.float32)
    noise = noise - noise.mean(dim=(-2, -1), keepdim=True)
    control = torch.arange(rows, device=context.device) % num_members == 0
    noise[control] = 0.0
    return context + (amplitude * noise).to(context.dtype)
