"""Weight-space interpolation of two trained models of one architecture (a "blend").

A model fine-tuned from another (e.g. the rollout-CRPS tuning of a distilled student) moves
its members and its ensemble mean in different directions; the straight line between the two
weight vectors, θ(w) = (1 − w) θ_a + w θ_b, is a one-parameter family between them that costs
nothing to train. Only models that are the same function family may be blended: the same
[net], the same sampler ([diffusion] but for training-only fields), the same normalisation
and grid; anything else is refused in one line.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from rollflow.configio import mapping_differences, to_mapping
from rollflow.errors import ConfigError
from rollflow.nets import build_network
from rollflow.training.distill import TRAINING_ONLY
from rollflow.training.trained import TrainedModel, load_trained

__all__ = ["blend_weights", "blend_models", "export_blend"]


def blend_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor],
                  weight: float) -> dict[str, torch.Tensor]:
    """(1 − weight)·a + weight·b per floating tensor, in float32 (float64 stays float64;
    non-float tensors must be equal and are kept); weight 0 returns a's values and 1 b's
    exactly. ValueError unless 0 ≤ weight ≤ 1 and both have the same names and shapes."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"blend weight must lie in [0, 1], got {weight}")
    if a.keys() != b.keys():
        raise ValueError(f"the two state dicts differ in {sorted(a.keys() ^ b.keys())[:3]}")
    out = {}
    for name, x in a.items():
        y = b[name]
        if x.shape != y.shape:
            raise ValueError(f"{name}: shapes {tuple(x.shape)} and {tuple(y.shape)} differ")
        if not (x.is_floating_point() and y.is_floating_point()):
            if not torch.equal(x, y):
                raise ValueError(f"{name}: non-float tensors differ")
            out[name] = x.clone()
            continue
        dtype = torch.float64 if torch.float64 in (x.dtype, y.dtype) else torch.float32
        x, y = x.to(dtype), y.to(dtype)
        out[name] = x.clone() if weight == 0 else y.clone() if weight == 1 else \
            torch.lerp(x, y, weight)
    return out


def _check_compatible(a: TrainedModel, b: TrainedModel) -> None:
    kept = {name: getattr(b.config.diffusion, name) for name in TRAINING_ONLY}
    for section, theirs, ours in (("diffusion", a.config.diffusion.replace(**kept),
                                   b.config.diffusion),
                                  ("net", a.config.net, b.config.net)):
        if theirs != ours:
            fields = ", ".join(mapping_differences(to_mapping(theirs), to_mapping(ours)))
            raise ConfigError(f"cannot blend: the two models' [{section}] differ in {fields}")
    if a.stats != b.stats:
        raise ConfigError(f"cannot blend: the normalisations differ (mean/std {a.stats.mean:.4g}/"
                          f"{a.stats.std:.4g} vs {b.stats.mean:.4g}/{b.stats.std:.4g})")
    if a.grid_size != b.grid_size:
        raise ConfigError(f"cannot blend: grids {a.grid_size}² and {b.grid_size}² differ")


def blend_models(a: TrainedModel, b: TrainedModel, weight: float) -> TrainedModel:
    """The model with weights (1 − weight)·θ_a + weight·θ_b and b's config, stats and step;
    ConfigError (one line) if the two are not one function family (see module doc)."""
    _check_compatible(a, b)
    try:
        weights = blend_weights(a.network.state_dict(), b.network.state_dict(), weight)
    except ValueError as err:
        raise ConfigError(f"cannot blend: {err}") from None
    net = build_network(b.config.net, b.config.num_frames)
    net.load_state_dict(weights)
    return dataclasses.replace(b, network=net.eval())


def export_blend(a_ref: str | Path, b_ref: str | Path, weight: float, name: str, *,
                 directory: Path, a_ema_decay: float | None = None,
                 b_ema_decay: float | None = None, dtype: torch.dtype = torch.float32) -> Path:
    """Blend two models (`load_trained` references) and write the result as a model file
    `directory/<name>.safetensors` + `.json` (loadable by `load_trained` from the tensor
    path); the card records both references and the weight. Returns the tensor path.
    ConfigError (one line) if that file is one of the two inputs: an output never
    overwrites an input."""
    from rollflow.training.shipped import write_model

    target = (Path(directory) / f"{name}.safetensors").resolve()
    for ref in (a_ref, b_ref):
        if Path(ref).resolve() in (target, target.with_suffix(".json")):
            raise ConfigError(f"cannot blend into {target}: it is the input {ref}; "
                              f"choose another name or directory")
    a = load_trained(a_ref, ema_decay=a_ema_decay)
    b = load_trained(b_ref, ema_decay=b_ema_decay)
    model = blend_models(a, b, weight)
    record = {"blend": {"a": str(a_ref), "a_ema_decay": a_ema_decay, "b": str(b_ref),
                        "b_ema_decay": b_ema_decay, "weight": weight}}
    path = write_model(name, model.network.state_dict(), config=model.config, stats=model.stats,
                       grid_size=model.grid_size, step=model.step, card=record,
                       directory=Path(directory), dtype=dtype, ema_decay=b_ema_decay)
    return path.with_suffix(".safetensors")
