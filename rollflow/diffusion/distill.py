"""Progressive distillation of the deterministic rolling sampler (Salimans & Ho 2022).

The rolling sampler with η = 0 (DDIM) is a deterministic map of its noise. A student with
K_s = K_t / 2 steps per shift is trained so that one of its updates over global times
[s, t] equals two of the teacher's, over [m, t] and [s, m] with m = (s + t)/2, on every
window slot at that slot's own local times τ_w(·) (rolling map, or the init map with
probability β). The init phase halves with it: W·K_s student steps for the teacher's W·K_t.

Training example (per window, all randomness from the generator):
1. the phase (init with probability β, else rolling) and a student step j ∈ [0, n) of that
   phase (n = init_steps or K_s): t = (j + 1)/n, m = (j + ½)/n, s = j/n;
2. z_t = α(τ_t) y + σ(τ_t) ε, the data window noised at the slots' local times;
3. the teacher's two DDIM updates z_t → z_m → z_s (`update_window`, no gradients), in
   the frames' precision even inside a bf16 autocast (training's `runtime.bf16` speeds up
   the student's call only): a bf16 teacher output carries 2⁻⁸ relative rounding, which
   step 4 divides by α_s − σ_s α_t/σ_t < 1 and step 5 by σ_t;
4. the x̂ that makes one DDIM update from z_t land on z_s,

       z_s = α_s x̂ + σ_s (z_t − α_t x̂)/σ_t   ⇒   x̃ = (z_s − (σ_s/σ_t) z_t) / (α_s − σ_s α_t/σ_t)

   (the denominator is σ_s(α_s/σ_s − α_t/σ_t) > 0 since λ_s > λ_t), and x̃ = z_s on a slot
   that reaches τ_s = 0, where the sampler emits x̂ itself;
5. the student's v-loss against ṽ = (α_t z_t − x̃)/σ_t, i.e. the x-MSE weighted by
   SNR_t + 1 as in training from data; slots with τ_s = τ_t (clipped at 1 during the init
   phase, untouched by the sampler) carry weight 0.

With `train_own_context` p > 0 (`student_config(..., own_context=p)`) the example's last
context frame is, with probability p, the student's own one-call estimate of it at its
emitting call (`rollflow.diffusion.own_context`, drawn before everything else): the teacher
and the student then see the same context, the kind the student continues from in a
forecast, and the student learns its teacher's steps there.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rollflow.diffusion.config import DiffusionConfig
from rollflow.diffusion.denoiser import Denoiser, Network, call_network
from rollflow.diffusion.local_time import local_times
from rollflow.diffusion.objective import (Shard, batch_noise, batch_stats, noised, per_frame_mse,
                                         split_frames)
from rollflow.diffusion.own_context import own_context_examples
from rollflow.diffusion.rng import standard_normal, uniform
from rollflow.diffusion.sampling import update_window
from rollflow.diffusion.target import encode

__all__ = ["DistillationObjective", "student_config", "single_step_target", "student_times"]


def student_config(teacher: DiffusionConfig, own_context: float = 0.0) -> DiffusionConfig:
    """The student's diffusion settings: K and the init phase halved, η = 0,
    `distilled_from` = the teacher's K, and `train_own_context` = own_context (default 0:
    the student learns its teacher's steps on true frames, whatever the teacher trained
    on). ValueError if the teacher cannot be halved."""
    if teacher.mode != "rolling":
        raise ValueError(f"only rolling models are distilled (the teacher's mode is "
                         f"{teacher.mode!r})")
    if teacher.steps_per_shift % 2 or teacher.num_init_steps % 2:
        raise ValueError(f"the teacher's steps per shift K = {teacher.steps_per_shift} and "
                         f"init steps {teacher.num_init_steps} must be even to be halved")
    init = None if teacher.init_steps is None else teacher.init_steps // 2
    return teacher.replace(steps_per_shift=teacher.steps_per_shift // 2, init_steps=init,
                           eta=0.0, distilled_from=teacher.steps_per_shift,
                           train_own_context=own_context)


def student_times(batch_size: int, config: DiffusionConfig, *, device: torch.device,
                  dtype: torch.dtype, generator: torch.Generator | None = None
                  ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Local times (B, W) at t, m, s of one student step per example, and use_init (B,).

    The step is uniform over the phase's student steps (init_steps or K of `config`)."""
    window = config.window_size
    use_init = uniform((batch_size,), device=device, dtype=dtype,
                       generator=generator) < config.init_probability
    u = uniform((batch_size,), device=device, dtype=dtype, generator=generator)
    steps = torch.where(use_init, float(config.num_init_steps), float(config.steps_per_shift))
    j = torch.minimum(torch.floor(u * steps), steps - 1)

    def at(fraction: Tensor) -> Tensor:
        t = (j + fraction) / steps
        return torch.where(use_init[:, None], local_times(t, window, "init"),
                           local_times(t, window, "rolling"))

    return at(torch.ones_like(j)), at(torch.full_like(j, 0.5)), at(torch.zeros_like(j)), use_init


def single_step_target(z_t: Tensor, z_s: Tensor, log_snr_t: Tensor, log_snr_s: Tensor,
                       tau_s: Tensor, schedule) -> Tensor:
    """x̃ (B, W, H, W) such that one DDIM (η = 0) update from z_t at λ_t lands on z_s at
    λ_s > λ_t; z_s itself where τ_s = 0 (the emitted slot) and where λ_s = λ_t (a slot the
    sampler leaves untouched: no x̂ moves it, and a finite value keeps the gradient of a
    masked loss finite). λ, τ: (B, W)."""
    alpha_t, sigma_t = schedule.alpha_sigma_from_log_snr(log_snr_t)
    alpha_s, sigma_s = schedule.alpha_sigma_from_log_snr(log_snr_s)
    ratio = sigma_s / sigma_t
    still = log_snr_s <= log_snr_t
    denominator = torch.where(still, torch.ones_like(ratio), alpha_s - ratio * alpha_t)
    x = (z_s - ratio[..., None, None] * z_t) / denominator[..., None, None]
    return torch.where(((tau_s == 0) | still)[..., None, None], z_s, x)


class DistillationObjective:
    """Student loss against a frozen teacher's two DDIM steps (see the module docstring).

    Args:
        config: the student's settings (`student_config(teacher settings)`).
        teacher: the teacher's network (eval mode; its gradients are never taken).
    """

    def __init__(self, config: DiffusionConfig, teacher: Network) -> None:
        if config.distilled_from is None:
            raise ValueError("DistillationObjective needs the student's settings "
                             "(student_config(teacher settings))")
        self.config = config
        self.schedule = config.schedule
        self.teacher = Denoiser(teacher, self.schedule, config.num_context)

    def loss(self, network: Network, frames: Tensor, *,
             generator: torch.Generator | None = None,
             shard: Shard | None = None) -> tuple[Tensor, dict[str, float]]:
        """Scalar loss and stats (loss, mean_tau, fraction_init, fraction_weighted); with
        `shard`, this shard's part of the batch loss (the randomness is drawn for the whole
        batch, as in `DiffusionObjective`)."""
        shard = shard or Shard(0, frames.shape[0], frames.shape[0])
        shard.check(frames.shape[0])
        if self.config.train_own_context > 0:
            frames = own_context_examples(network, frames, self.config, start=shard.start,
                                          total=shard.total, generator=generator)
        context, window = split_frames(frames, self.config)
        window = encode(window, context, self.config.target)
        tau_t, tau_m, tau_s, use_init = student_times(
            shard.total, self.config, device=frames.device, dtype=frames.dtype,
            generator=generator)
        eps = batch_noise(shard, window, generator)
        weight = (tau_s < tau_t).to(frames.dtype)
        stats = batch_stats(tau_t, use_init, weight)
        total_weight = weight.sum()
        rows = slice(shard.start, shard.stop)
        tau_t, tau_m, tau_s = tau_t[rows], tau_m[rows], tau_s[rows]
        eps, weight = eps[rows], weight[rows]
        z_t = noised(window, tau_t, eps, self.schedule)
        with torch.no_grad(), torch.autocast(frames.device.type, enabled=False):
            z_m = update_window(self.teacher, context, z_t, tau_t, tau_m, eta=0.0)
            z_s = update_window(self.teacher, context, z_m, tau_m, tau_s, eta=0.0)
        log_snr_t, log_snr_s = self.schedule.log_snr(tau_t), self.schedule.log_snr(tau_s)
        x_tilde = single_step_target(z_t, z_s, log_snr_t, log_snr_s, tau_s, self.schedule)
        alpha_t, sigma_t = self.schedule.alpha_sigma_from_log_snr(log_snr_t)
        v_tilde = (alpha_t[..., None, None] * z_t - x_tilde) / sigma_t[..., None, None]
        v_hat = call_network(network, context, z_t, log_snr_t,
                             logsnr_max=self.schedule.logsnr_max)
        mse = per_frame_mse(v_hat, v_tilde)
        loss = torch.where(weight > 0, weight * mse, 0.0).sum() / total_weight
        return loss, {"loss": loss.item(), **stats}
