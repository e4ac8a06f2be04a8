"""Runs that start from a trained model: distillation students (a student config from its
teacher, the teacher loaded for training) and warm starts ([init], `load_initial`).

A distillation run is an ordinary training run (same loop, checkpoints, resume, EMA,
augmentation) whose objective is `rollflow.diffusion.DistillationObjective` instead of the
data loss: the student starts from the teacher's weights and normalisation and learns to
do in one DDIM update what the teacher does in two. Halving again (4 → 2 → 1) is a second
run whose teacher is the first student.
"""

from __future__ import annotations

import dataclasses

import torch

from rollflow.configio import mapping_differences, to_mapping
from rollflow.diffusion.distill import student_config
from rollflow.errors import ConfigError
from rollflow.nets import build_network
from rollflow.nets.stacked import add_forcing_channels, prepend_frames
from rollflow.training.config import DistillConfig, InitConfig, TrainConfig
from rollflow.training.trained import TrainedModel, load_trained

__all__ = ["distillation_config", "load_teacher", "load_initial"]


def distillation_config(teacher: TrainConfig, *, teacher_ref: str, total_steps: int,
                        lr: float = 1e-4, warmup_steps: int = 100,
                        teacher_ema_decay: float | None = None,
                        batch_size: int | None = None,
                        own_context: float = 0.0) -> TrainConfig:
    """The student's run config: the teacher's with K halved (`student_config`), the
    [distill] section pointing at the teacher, a fresh optimiser schedule, and no [init]
    (a warm-started teacher's source: the student starts from the teacher itself).

    Args:
        teacher: the teacher's training config.
        teacher_ref: how `load_trained` finds the teacher (run dir, checkpoint, name).
        total_steps: optimisation steps of the student run (cosine to 0 there).
        lr, warmup_steps: the student's peak learning rate and warm-up.
        teacher_ema_decay: which EMA of the teacher run (None: its ema_decay).
        batch_size: windows per step (None: the teacher's).
        own_context: the student's `train_own_context` p (0: true context frames only).
    """
    try:
        diffusion = student_config(teacher.diffusion, own_context=own_context)
    except ValueError as err:
        raise ConfigError(f"cannot distil this teacher: {err}") from None
    optim = dataclasses.replace(
        teacher.optim, lr=lr, warmup_steps=warmup_steps, total_steps=total_steps,
        batch_size=batch_size or teacher.optim.batch_size)
    return teacher.replace(diffusion=diffusion, optim=optim, init=InitConfig(),
                           distill=DistillConfig(teacher=teacher_ref,
                                                 teacher_ema_decay=teacher_ema_decay))


def load_teacher(config: TrainConfig, device: torch.device,
                 dtype: torch.dtype = torch.float32) -> TrainedModel:
    """The teacher of a distillation run, frozen, in eval mode on `device`; ConfigError
    (one line) if the student's config is not its teacher's with K halved (its own-context
    probability aside, which is the student's choice)."""
    ref = config.distill.teacher
    teacher = load_trained(ref, ema_decay=config.distill.teacher_ema_decay, device=device)
    try:
        expected = student_config(teacher.config.diffusion,
                                  own_context=config.diffusion.train_own_context)
    except ValueError as err:
        raise ConfigError(f"teacher {ref}: {err}") from None
    if expected != config.diffusion:
        fields = mapping_differences(to_mapping(expected), to_mapping(config.diffusion))
        raise ConfigError(f"this student's [diffusion] is not teacher {ref}'s with K halved "
                          f"(differs in {', '.join(fields)})")
    if teacher.config.net != config.net:
        fields = mapping_differences(to_mapping(teacher.config.net), to_mapping(config.net))
        raise ConfigError(f"the student's [net] differs from teacher {ref}'s in "
                          f"{', '.join(fields)}; a student starts from its teacher's weights")
    teacher.network.to(dtype=dtype).requires_grad_(False).eval()
    return teacher


TRAINING_ONLY = ("train_context_noise", "train_own_context", "train_rollout_frames",
                 "train_rollout_members")
"""[diffusion] fields that shape only the training examples, not the model or its sampler:
a warm start may change them."""


def load_initial(config: TrainConfig, device: torch.device) -> TrainedModel:
    """The model a warm-started run ([init]) starts from; ConfigError (one line) unless its
    [diffusion] (but for `TRAINING_ONLY` fields) and [net] are this run's. A channel-stacked
    network may gain context frames (`nets.stacked.prepend_frames`) and the forcing channels
    (`net.forcing_wavenumber`, `nets.stacked.add_forcing_channels`): the new inputs enter
    with zero weights, so the run starts from exactly the model's function."""
    ref = config.init.weights
    start = load_trained(ref, ema_decay=config.init.ema_decay, device=device)
    kept = {name: getattr(config.diffusion, name) for name in TRAINING_ONLY}
    extra = config.diffusion.num_context - start.config.diffusion.num_context
    stacked = config.net.window_encoding == "channels"
    if extra > 0 and stacked:
        kept["num_context"] = config.diffusion.num_context     # older frames put in front
    forcing = (stacked and start.config.net.forcing_wavenumber == 0
               and config.net.forcing_wavenumber > 0)
    for section in ("diffusion", "net"):
        theirs, ours = getattr(start.config, section), getattr(config, section)
        if section == "diffusion":
            theirs = theirs.replace(**kept)
        elif forcing:
            theirs = dataclasses.replace(theirs, forcing_wavenumber=ours.forcing_wavenumber)
        if theirs != ours:
            fields = mapping_differences(to_mapping(theirs), to_mapping(ours))
            raise ConfigError(f"[init] {ref}: its [{section}] differs from this run's in "
                              f"{', '.join(fields)}; a warm start keeps the model as it is "
                              f"(it may add context frames or the forcing channels to a "
                              f"channel-stacked network)")
    if "num_context" not in kept and not forcing:
        return start
    weights = start.network.state_dict()
    if forcing:
        weights = add_forcing_channels(weights, start.config.num_frames)
    if extra > 0:
        weights = prepend_frames(weights, start.config.num_frames, extra)
    network = build_network(config.net, config.num_frames).to(device)
    network.load_state_dict(weights)
    return dataclasses.replace(start, network=network.eval(), config=config)
