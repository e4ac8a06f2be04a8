"""Forecast rollouts of a trained model from ground-truth initial states.

`forecast(model, truth, ...)` takes a trajectory DataArray with dims (sample, time, x, y),
uses the `num_context` frames ending at `init_index` (spaced by the model's frame stride)
as clean context, and returns an ensemble forecast with dims (sample, member, time, x, y):
`time` continues the truth's time axis (t.u.), `lead_time` counts from the initial time.

The model is a typed seam (`ForecastModel`): anything with a network, its training config
(diffusion settings and frame stride) and the normalisation maps. `rollflow.training.
load_trained` returns such an object; this package does not import `training`.
"""

from __future__ import annotations

import dataclasses
import time as _time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np
import torch
import xarray as xr

from rollflow.conventions import (LEAD_TIME, MEMBER, SAMPLE, SPEC_ATTR_PREFIX, TIME, VORTICITY,
                                  X, Y)
from rollflow.diffusion import DiffusionConfig, expand_members, make_sampler, split_members
from rollflow.errors import DataError, RollflowError
from rollflow.forecast.estimate import timing_attrs
from rollflow.forecast.fingerprint import FINGERPRINT_ATTR, weights_fingerprint
from rollflow.forecast.perturb import perturb_members, perturbation_generator
from rollflow.forecast.speed import FastNetwork, InferenceOptions, fast_network
from rollflow.forecast.symmetric import map_members, member_elements
from rollflow.store.forecasts import forecast_dataset as store_forecast_dataset
from rollflow.store.forecasts import truth_attrs

__all__ = ["ForecastModel", "ForecastSettings", "forecast", "forecast_dataset", "timing_attrs",
           "context_indices"]


class ForecastModel(Protocol):
    """What a rollout needs from a trained model (see `rollflow.training.TrainedModel`)."""

    network: torch.nn.Module
    config: Any  # has `.diffusion` (DiffusionConfig) and `.data.frame_stride` (int)

    def normalise(self, vorticity: torch.Tensor) -> torch.Tensor: ...

    def denormalise(self, values: torch.Tensor) -> torch.Tensor: ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class ForecastSettings:
    """How to roll out.

    Attributes:
        init_index: index along `time` of the last context frame (the initial state).
        num_frames: frames to emit after the initial state (≥ 1).
        num_members: ensemble members per sample (≥ 1); deterministic models give 1 distinct.
        seed: seed of the torch generator; batch b uses seed + first sample index of b.
        batch_size: samples per sampler call (each expanded to batch_size · num_members rows).
        steps_per_shift, eta: override the model's rolling sampler settings (None: keep).
        precision: "float32" or "bfloat16" network calls (`rollflow.forecast.speed`;
            bf16 only where the CPU has it natively, else float32 with a warning).
        channels_last: NHWC memory order for the network's weights and inputs.
        symmetry_members: member m forecasts g_m·ω and maps back (`forecast.symmetric`):
            an ensemble from the flow's symmetries (needs the truth's forcing wavenumber).
        context_noise: ε ≥ 0; members m ≥ 1 start from the context + ε σ η (`forecast.perturb`:
            white noise relative to the data's std σ; member 0 is the unperturbed control).
        time_chunk: `forecast_to_store` writes each batch this many frames at a time and
            can resume within a batch (long rollouts); None: whole batches. The values do
            not depend on it.
    """

    init_index: int
    num_frames: int
    num_members: int = 1
    seed: int = 0
    batch_size: int = 4
    steps_per_shift: int | None = None
    eta: float | None = None
    precision: str = "float32"
    channels_last: bool = False
    symmetry_members: bool = False
    context_noise: float = 0.0
    time_chunk: int | None = None

    def __post_init__(self) -> None:
        if self.time_chunk is not None and self.time_chunk < 1:
            raise DataError(f"ForecastSettings.time_chunk must be ≥ 1 (got {self.time_chunk})")
        for name in ("num_frames", "num_members", "batch_size"):
            if getattr(self, name) < 1:
                raise DataError(f"ForecastSettings.{name} must be ≥ 1 "
                                f"(got {getattr(self, name)})")
        if self.init_index < 0 or self.seed < 0 or not self.context_noise >= 0.0:
            raise DataError("ForecastSettings.init_index, seed and context_noise must be ≥ 0")
        if self.precision not in ("float32", "bfloat16"):
            raise DataError(f"ForecastSettings.precision must be 'float32' or 'bfloat16' "
                            f"(got {self.precision!r})")


def context_indices(init_index: int, num_context: int, stride: int) -> list[int]:
    """Time indices of the context frames, oldest first, ending at `init_index`."""
    first = init_index - (num_context - 1) * stride
    if first < 0:
        raise DataError(f"init_index {init_index} leaves no room for {num_context} context "
                        f"frames at stride {stride}; it must be ≥ {(num_context - 1) * stride}")
    return list(range(first, init_index + 1, stride))


def _diffusion_config(model: ForecastModel, settings: ForecastSettings) -> DiffusionConfig:
    config: DiffusionConfig = model.config.diffusion
    if config.distilled_from is not None:
        k = config.steps_per_shift
        if settings.steps_per_shift not in (None, k):
            raise DataError(f"this model is a distilled student trained for K = {k} steps "
                            f"per shift (from a K = {config.distilled_from} teacher); it cannot "
                            f"sample with K = {settings.steps_per_shift} — use its teacher")
        if settings.eta not in (None, 0.0):
            raise DataError(f"this model is a distilled student of the deterministic (η = 0) "
                            f"sampler; it cannot sample with η = {settings.eta}")
    changes = {k: v for k, v in (("steps_per_shift", settings.steps_per_shift),
                                 ("eta", settings.eta)) if v is not None}
    return dataclasses.replace(config, **changes) if changes else config


def _check_truth(truth: xr.DataArray) -> None:
    missing = [d for d in (SAMPLE, TIME, X, Y) if d not in truth.dims]
    if missing:
        raise DataError(f"truth lacks dims {missing}; expected (sample, time, x, y)")


@dataclasses.dataclass(frozen=True)
class ForecastPlan:
    """What every batch of one forecast shares (built by `plan_forecast`)."""

    truth: xr.DataArray           # (sample, time, x, y)
    config: DiffusionConfig
    stride: int
    indices: list[int]            # context frames along time
    device: torch.device
    sampler: Any
    precision: str = "float32"    # what the calls ran in (bf16 falls back without hardware)
    elements: list | None = None  # per-member symmetry elements (symmetry_members)
    forcing_wavenumber: int | None = None
    fingerprint: str = ""         # `weights_fingerprint` of the model's network


def _warn(message: str) -> None:
    import warnings

    warnings.warn(message, RuntimeWarning, stacklevel=3)


def plan_forecast(model: ForecastModel, truth: xr.DataArray, settings: ForecastSettings, *,
                  warn: Callable[[str], None] | None = None,
                  attrs: Mapping[str, Any] | None = None) -> ForecastPlan:
    """Check the truth and settings and build the sampler (DataError on bad input); `warn`
    receives one-line notices (bf16 unavailable; default: a RuntimeWarning)."""
    _check_truth(truth)
    truth = truth.transpose(SAMPLE, TIME, X, Y)
    config = _diffusion_config(model, settings)
    stride = int(model.config.data.frame_stride)
    indices = context_indices(settings.init_index, config.num_context, stride)
    if settings.init_index >= truth.sizes[TIME]:
        raise DataError(f"init_index {settings.init_index} is past the last frame "
                        f"({truth.sizes[TIME] - 1})")
    device = next(model.network.parameters()).device
    options = InferenceOptions(precision=settings.precision,
                               channels_last=settings.channels_last)
    network = fast_network(model.network, options, warn=warn or _warn)
    precision = network.options.precision if isinstance(network, FastNetwork) else "float32"
    elements, kf = None, None
    if settings.symmetry_members:
        kf = spec_attrs(truth, attrs).get(SPEC_ATTR_PREFIX + "forcing_wavenumber")
        if kf is None:
            raise DataError("symmetry members need the truth's forcing wavenumber "
                            "(its flow_forcing_wavenumber attr)")
        elements = member_elements(settings.num_members, truth.sizes[X], int(kf), settings.seed)
    return ForecastPlan(truth, config, stride, indices, device, make_sampler(config, network),
                        precision, elements, None if kf is None else int(kf),
                        weights_fingerprint(model.network))


def batch_context(model: ForecastModel, plan: ForecastPlan, settings: ForecastSettings,
                  first: int) -> tuple[xr.DataArray, torch.Tensor]:
    """The truth's context frames of samples first … first + B − 1 (DataError naming any
    non-finite sample) and the sampler's normalised input (B·members, n_ctx, x, y)."""
    block = plan.truth.isel({SAMPLE: slice(first, first + settings.batch_size),
                             TIME: plan.indices})
    values = np.array(block.values, dtype=np.float32)
    bad = ~np.isfinite(values).all(axis=(1, 2, 3))
    if bad.any():
        names = block[SAMPLE].values[bad].tolist()
        raise DataError(f"sample(s) {names} have non-finite values in their context frames "
                        f"(time indices {plan.indices}); nothing forecast for them")
    context = expand_members(torch.as_tensor(values, device=plan.device), settings.num_members)
    if plan.elements:
        context = map_members(context, plan.elements, plan.forcing_wavenumber)
    generator = perturbation_generator(settings.seed, first, plan.device)
    return block, perturb_members(model.normalise(context), settings.num_members,
                                  settings.context_noise, generator)


def emitted_values(model: ForecastModel, plan: ForecastPlan, settings: ForecastSettings,
                   frames: torch.Tensor, block: xr.DataArray) -> np.ndarray:
    """Sampler output (B·members, T, x, y) → vorticity (B, members, T, x, y) float32;
    RollflowError naming the samples whose forecast became non-finite."""
    frames = model.denormalise(frames)
    if plan.elements:
        frames = map_members(frames, plan.elements, plan.forcing_wavenumber, back=True)
    out = split_members(frames, settings.num_members).float().cpu().numpy()
    if not np.isfinite(out).all():
        names = block[SAMPLE].values[~np.isfinite(out).all(axis=(1, 2, 3, 4))].tolist()
        raise RollflowError(f"the forecast of sample(s) {names} became non-finite; nothing "
                            f"written for them (an unstable model, or a sampler setting it "
                            f"was not trained for)")
    return out


def run_batch(model: ForecastModel, plan: ForecastPlan, settings: ForecastSettings,
               first: int) -> tuple[np.ndarray, int]:
    """Frames (B, member, time, x, y) of the samples first … first + B − 1 and the network
    calls it took; the generator is seeded with seed + first, so a batch gives the same
    frames whether it runs alone or within a whole forecast."""
    block, context = batch_context(model, plan, settings, first)
    generator = torch.Generator(device=plan.device).manual_seed(settings.seed + first)
    frames = plan.sampler(context, settings.num_frames, generator=generator)
    return emitted_values(model, plan, settings, frames, block), plan.sampler.stats.network_calls


def spec_attrs(truth: xr.DataArray, attrs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The identifying entries (`flow_*`, `segments_*`) of `attrs`, or of the truth's own."""
    return truth_attrs(truth.attrs if attrs is None else attrs)


def forecast(model: ForecastModel, truth: xr.DataArray, settings: ForecastSettings, *,
             attrs: Mapping[str, Any] | None = None,
             progress: Callable[[int], None] | None = None,
             warn: Callable[[str], None] | None = None) -> xr.Dataset:
    """Ensemble forecast (sample, member, time, x, y) of vorticity, 1/t.u., float32.

    Holds the whole forecast in memory; `rollflow.forecast.forecast_to_store` writes the
    same values batch by batch instead (bounded memory, resumable).

    Args:
        model: a trained model (eval mode) on the truth's grid.
        truth: vorticity DataArray (sample, time, x, y); only the context frames are read.
        settings: initial index, length, members, seed, batch size, sampler overrides.
        attrs: the truth store's global attrs; its `flow_*` entries (the FlowSpec) are
            copied to the result (default: the DataArray's own attrs).
        progress: called with the number of frames emitted per batch row, per batch.

    Returns:
        Dataset with `vorticity` (sample, member, time, x, y), coords `time` (continuing the
        truth's time axis), `lead_time` (along `time`), and attrs recording the model,
        sampler settings, seed, network calls and wall seconds per emitted frame (whole
        forecast), and `forecast_seconds_per_time_unit`: wall seconds per simulated t.u.
        per trajectory (one member of one sample), comparable with the solvers'.
    """
    plan = plan_forecast(model, truth, settings, warn=warn, attrs=attrs)
    outputs, calls, start = [], 0, _time.perf_counter()
    for first in range(0, plan.truth.sizes[SAMPLE], settings.batch_size):
        values, batch_calls = run_batch(model, plan, settings, first)
        outputs.append(values)
        calls += batch_calls
        if progress is not None:
            progress(settings.num_frames)
    seconds = _time.perf_counter() - start
    values = np.concatenate(outputs)
    ds = forecast_dataset(values, plan.truth, truth.attrs if attrs is None else attrs,
                          settings, plan.config, plan.stride, precision=plan.precision,
                          fingerprint=plan.fingerprint)
    ds.attrs.update(timing_attrs(ds, settings, calls=calls, num_batches=len(outputs),
                                 seconds=seconds, num_samples_timed=values.shape[0]))
    return ds


def forecast_dataset(values: Any, truth: xr.DataArray, attrs: Mapping[str, Any] | None,
                     settings: ForecastSettings, config: DiffusionConfig,
                     stride: int, *, precision: str = "float32",
                     fingerprint: str = "") -> xr.Dataset:
    """The forecast Dataset around `values` (sample, member, time, x, y), numpy or dask:
    the one builder (`rollflow.store.forecast_dataset`) with the truth store's `attrs`
    (None: the DataArray's own), this model's sampler settings and its weights'
    `fingerprint` (timings are added by the caller)."""
    return store_forecast_dataset(values, truth, init_index=settings.init_index,
                                  frame_stride=stride, source_attrs=attrs, attrs={
        "forecast_mode": config.mode, "forecast_num_context": config.num_context,
        "forecast_window_size": config.window_size, "forecast_eta": config.eta,
        "forecast_steps_per_shift": config.steps_per_shift, "forecast_seed": settings.seed,
        "forecast_batch_size": settings.batch_size, "forecast_precision": precision,
        "forecast_channels_last": int(settings.channels_last),
        "forecast_symmetry_members": int(settings.symmetry_members),
        **({"forecast_context_noise": settings.context_noise} if settings.context_noise else {}),
        "forecast_time_chunk": int(settings.time_chunk or 0), FINGERPRINT_ATTR: fingerprint})
