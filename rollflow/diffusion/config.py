"""`DiffusionConfig`: the training objective and the sampler of one forecasting model.

Stdlib + the schedule; built from TOML through `rollflow.configio.from_mapping`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

from rollflow.diffusion.schedule import CosineSchedule
from rollflow.errors import ConfigError

__all__ = ["DiffusionConfig", "MODES"]

MODES = ("rolling", "standard", "deterministic")
TARGETS = ("field", "increment")
LOSS_WEIGHTINGS = ("v", "min_snr")

_INT_FIELDS = ("num_context", "window_size", "steps_per_shift", "train_rollout_members")
_OPTIONAL_INT_FIELDS = ("init_steps", "standard_steps")
_FLOAT_FIELDS = ("init_probability", "logsnr_min", "logsnr_max", "logsnr_shift", "eta",
                 "min_snr_gamma", "train_context_noise", "train_own_context")


def _require(condition: bool, field: str, allowed: str, value: Any) -> None:
    if not condition:
        raise ConfigError(f"DiffusionConfig.{field} must be {allowed} (got {value!r})")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DiffusionConfig:
    """How a model is trained and sampled.

    Attributes:
        mode: "rolling" (rolling diffusion), "standard" (one τ for the whole window) or
            "deterministic" (MSE regression of the window, autoregressive rollout).
        num_context: clean context frames n_ctx ≥ 1 in front of the window.
        window_size: frames W ≥ 1 in the window (predicted per network call).
        init_probability: β ∈ [0, 1], probability that a rolling training example uses the
            init map instead of the rolling map.
        logsnr_min, logsnr_max, logsnr_shift: the cosine schedule (see `CosineSchedule`).
        steps_per_shift: K ≥ 1, rolling sampler steps per emitted frame (t: 1 → 0).
        init_steps: rolling sampler steps of the init phase; None → W·K.
        standard_steps: N, steps per window of the standard sampler; None → W·K (equal
            network calls per emitted frame as rolling).
        eta: η ∈ [0, 1]; 0 = deterministic DDIM, 1 = ancestral, in between interpolates.
        target: what the window slots hold (`rollflow.diffusion.target`): "field" (the
            frames) or "increment" (each frame minus the last context frame). For the
            deterministic mode, "increment" makes the output a residual on the last frame.
        loss_weighting: weight of each frame's v-MSE: "v" (1, i.e. x-MSE weighted by
            SNR + 1) or "min_snr" (min(SNR, γ)/(SNR + 1), i.e. x-MSE weighted by
            min(SNR, γ); Hang et al. 2023). Diffusion modes only.
        min_snr_gamma: γ > 0 of "min_snr".
        train_context_noise: s ≥ 0, training only: the context frames the network sees in
            training are the clean ones plus s·η, η ~ N(0, I) (units of the normalised field,
            i.e. of the training data's std), so that it learns to condition on imperfect
            frames such as its own forecasts; the window's target stays clean. 0: clean.
        train_own_context: p ∈ [0, 1], training only, diffusion modes: the probability that
            an example's last context frame is the network's own one-call estimate of it
            (no gradient; `rollflow.diffusion.own_context`); for a distilled student, its
            own estimate, on which the teacher's steps are its target. p > 0 makes every
            training example one frame longer. 0: true frames only.
        train_rollout_frames: R ≥ 0, training only, rolling mode: R > 0 replaces the
            denoising loss by the fair CRPS of R-frame rollouts of the model's own sampler
            (`rollflow.diffusion.rollout_crps`; a fine-tuning objective); each training
            example is then n_ctx + R frames. 0: the denoising loss.
        train_rollout_members: M ≥ 2 members per rollout of that loss.
        distilled_from: K of the teacher this rolling model was distilled from
            (`rollflow.diffusion.distill`), None for a model trained from data. A distilled
            student samples only with its own steps_per_shift = distilled_from / 2 and
            deterministic DDIM (η = 0), the sampler it was taught.
    """

    mode: Literal["rolling", "standard", "deterministic"] = "rolling"
    num_context: int = 2
    window_size: int = 4
    init_probability: float = 0.1
    logsnr_min: float = -15.0
    logsnr_max: float = 15.0
    logsnr_shift: float = 0.0
    steps_per_shift: int = 4
    init_steps: int | None = None
    standard_steps: int | None = None
    eta: float = 0.0
    target: Literal["field", "increment"] = "field"
    loss_weighting: Literal["v", "min_snr"] = "v"
    min_snr_gamma: float = 5.0
    train_context_noise: float = 0.0
    train_own_context: float = 0.0
    train_rollout_frames: int = 0
    train_rollout_members: int = 2
    distilled_from: int | None = None

    def __post_init__(self) -> None:
        _require(self.mode in MODES, "mode", f"one of {', '.join(map(repr, MODES))}", self.mode)
        for name in _INT_FIELDS:
            value = getattr(self, name)
            _require(_is_int(value) and value >= 1, name, "an integer ≥ 1", value)
        for name in _OPTIONAL_INT_FIELDS:
            value = getattr(self, name)
            _require(value is None or (_is_int(value) and value >= 1), name,
                     "an integer ≥ 1 or omitted", value)
        for name in _FLOAT_FIELDS:
            value = getattr(self, name)
            _require(isinstance(value, (int, float)) and not isinstance(value, bool)
                     and math.isfinite(value), name, "a finite number", value)
            object.__setattr__(self, name, float(value))
        _require(0.0 <= self.init_probability <= 1.0, "init_probability", "in [0, 1]",
                 self.init_probability)
        _require(0.0 <= self.eta <= 1.0, "eta", "in [0, 1]", self.eta)
        _require(self.target in TARGETS, "target", f"one of {', '.join(map(repr, TARGETS))}",
                 self.target)
        _require(self.loss_weighting in LOSS_WEIGHTINGS, "loss_weighting",
                 f"one of {', '.join(map(repr, LOSS_WEIGHTINGS))}", self.loss_weighting)
        _require(self.min_snr_gamma > 0, "min_snr_gamma", "> 0", self.min_snr_gamma)
        _require(self.train_context_noise >= 0, "train_context_noise", "≥ 0",
                 self.train_context_noise)
        _require(0.0 <= self.train_own_context <= 1.0, "train_own_context", "in [0, 1]",
                 self.train_own_context)
        if self.train_own_context > 0:
            _require(self.mode != "deterministic", "train_own_context",
                     "0 for the deterministic mode", self.train_own_context)
        _require(_is_int(self.train_rollout_frames) and self.train_rollout_frames >= 0,
                 "train_rollout_frames", "an integer ≥ 0", self.train_rollout_frames)
        _require(self.train_rollout_members >= 2, "train_rollout_members", "≥ 2",
                 self.train_rollout_members)
        if self.train_rollout_frames > 0:
            _require(self.mode == "rolling" and not self.train_own_context
                     and not self.train_context_noise, "train_rollout_frames",
                     "0 unless the mode is rolling with true, clean context frames",
                     self.train_rollout_frames)
        _require(self.logsnr_min < self.logsnr_max, "logsnr_min",
                 f"< logsnr_max = {self.logsnr_max}", self.logsnr_min)
        if self.distilled_from is not None:
            _require(self.mode == "rolling" and _is_int(self.distilled_from)
                     and self.distilled_from == 2 * self.steps_per_shift, "distilled_from",
                     f"2 × steps_per_shift = {2 * self.steps_per_shift} for a rolling model",
                     self.distilled_from)
            _require(self.eta == 0.0, "eta", "0 for a distilled student", self.eta)

    @property
    def frames_per_example(self) -> int:
        """Frames per training example: num_context + window_size, one more with
        train_own_context > 0 (the frame the network's own context frame is made from);
        num_context + R with the rollout loss (train_rollout_frames = R > 0)."""
        if self.train_rollout_frames > 0:
            return self.num_context + self.train_rollout_frames
        return self.num_context + self.window_size + int(self.train_own_context > 0)

    @property
    def schedule(self) -> CosineSchedule:
        """The noise schedule these settings describe."""
        return CosineSchedule(self.logsnr_min, self.logsnr_max, self.logsnr_shift)

    @property
    def num_init_steps(self) -> int:
        """Resolved init_steps (W·K when omitted)."""
        return self.init_steps or self.window_size * self.steps_per_shift

    @property
    def num_standard_steps(self) -> int:
        """Resolved standard_steps N (W·K when omitted)."""
        return self.standard_steps or self.window_size * self.steps_per_shift

    def replace(self, **changes: Any) -> "DiffusionConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)
