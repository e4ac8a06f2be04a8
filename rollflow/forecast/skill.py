"""Forecast a truth store's states and score them in one call — the step every benchmark,
ablation, learning curve and model card repeats.

`scored_forecast` returns the forecast and its `headline_skill` (the forecast's cost attrs
carried over, so that a reading never loses what it cost); `score_forecast_store` does the
same for a forecast store on disk (any forecaster's: model, solver, reference), after the
provenance checks of `rollflow.store.open_for_scoring`; `frames_for_horizon` turns a
horizon in truth frames into model frames (a model with frame stride s emits every s-th);
`rollout_statistics` rolls a model out far past predictability and reads its stability.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import xarray as xr

from rollflow.analysis.skill import headline_skill
from rollflow.analysis.stability import rollout_stability
from rollflow.analysis.divergence import separation_growth
from rollflow.analysis.report import role_of
from rollflow.configio import check_keys
from rollflow.conventions import LEAD_TIME, MEMBER, SAMPLE, TIME, VORTICITY, X
from rollflow.forecast.rollout import ForecastModel, ForecastSettings, forecast
from rollflow.store import open_for_scoring

__all__ = ["scored_forecast", "score_forecast_store", "frames_for_horizon",
           "rollout_statistics", "settings_from_plan", "evaluate_in_blocks"]


_PLAN_KEYS = {"init_index": "init_index", "frames": "num_frames", "members": "num_members",
              "seed": "seed", "batch_size": "batch_size", "steps_per_shift": "steps_per_shift",
              "eta": "eta", "precision": "precision", "symmetry_members": "symmetry_members",
              "context_noise": "context_noise", "time_chunk": "time_chunk"}


def settings_from_plan(section: Mapping[str, Any], *, ignore: Iterable[str] = (),
                       where: str = "the plan", **overrides: Any) -> ForecastSettings:
    """`ForecastSettings` from an experiment plan's TOML table, whose keys are the short
    names (frames, members, init_index, seed, batch_size, steps_per_shift, eta, precision,
    symmetry_members, context_noise); keys in `ignore` belong to the driver; any other key
    is refused (ConfigError naming it). `overrides` (ForecastSettings field names) win."""
    ignore = set(ignore)
    check_keys(section, [*_PLAN_KEYS, *ignore], where)
    fields = {_PLAN_KEYS[k]: v for k, v in section.items() if k not in ignore}
    return ForecastSettings(**{**fields, **overrides})


def frames_for_horizon(model: ForecastModel, truth_frames: int) -> int:
    """Model frames covering `truth_frames` frames of the truth's save interval (the same
    horizon in t.u.; rounded down to whole model frames, at least 1)."""
    return max(1, truth_frames // model.config.data.frame_stride)


def scored_forecast(model: ForecastModel, truth: xr.Dataset, settings: ForecastSettings, *,
                    num_resamples: int = 1000, seed: int = 0,
                    progress: Callable[[int], None] | None = None,
                    ) -> tuple[xr.Dataset, xr.Dataset]:
    """(forecast, skill) of `model` from the states of `truth` (a trajectories Dataset with
    `vorticity` (sample, time, x, y) and its spec attrs).

    The skill Dataset is `headline_skill(forecast, truth)`, computed, with every
    `forecast_*` attr of the forecast (cost per member and per t.u., calls per frame,
    members) copied, so that a reading keeps the cost of all that produced it.
    """
    values = truth[VORTICITY].load()
    result = forecast(model, values, settings, attrs=truth.attrs, progress=progress)
    skill = headline_skill(result[VORTICITY], values, seed=seed,
                           num_resamples=num_resamples).compute()
    skill.attrs.update({k: v for k, v in result.attrs.items() if k.startswith("forecast_")})
    return result, skill


def score_forecast_store(forecast_path: str | os.PathLike, truth_path: str | os.PathLike, *,
                         members: int | None = None, num_resamples: int = 1000,
                         seed: int = 0, growth: bool = False) -> xr.Dataset:
    """`headline_skill` of the forecast store at `forecast_path` (its first `members`
    members; default all) against the truth store it was started from, computed, with the
    forecast's `forecast_*` attrs and `forecast_num_members` = the members scored.

    With `growth` and ≥ 2 members that start from one state (a model's ensemble, not the
    probabilistic climatology, whose members are unrelated climate frames),
    `ensemble_growth_rate` (1/t.u.) is the growth rate of the members' separation below
    half its saturation (`separation_growth`, mean over samples), to set beside the flow's
    Lyapunov exponent.

    Refuses (one line) an unfinished forecast or one started from another truth
    (`rollflow.store.open_for_scoring`)."""
    forecast_ds, values, truth = open_for_scoring(forecast_path, truth_path, members=members)
    values = values.load()
    skill = headline_skill(values, truth, seed=seed,
                           num_resamples=num_resamples).compute()
    skill.attrs.update({k: v for k, v in forecast_ds.attrs.items() if k.startswith("forecast_")})
    skill.attrs["forecast_num_members"] = int(values.sizes[MEMBER])
    if growth and values.sizes[MEMBER] >= 2 and role_of(skill) == "model":
        rates = separation_growth(values.swap_dims({TIME: LEAD_TIME}), dim=LEAD_TIME,
                                  upper_fraction=0.5)["growth_rate"]
        skill["ensemble_growth_rate"] = rates.mean()
    return skill


def rollout_statistics(model: ForecastModel, truth: xr.Dataset, climate: xr.DataArray,
                       settings: ForecastSettings) -> xr.Dataset:
    """Long rollouts of `model` from the states of `truth`, read by `rollout_stability`
    against `climate` (vorticity frames of the flow's attractor): shares of finite rollouts
    and of frames with the kinetic energy inside the climate's range, log-spectral error
    of the time-mean spectrum; the kinetic energy is kept as its mean over samples."""
    result = forecast(model, truth[VORTICITY].load(), settings, attrs=truth.attrs)
    stats = rollout_stability(result[VORTICITY], climate)
    return stats.drop_vars("kinetic_energy").assign(
        kinetic_energy=stats.kinetic_energy.mean(SAMPLE))


def evaluate_in_blocks(forecast: xr.DataArray, truth: xr.DataArray, *, block_mb: float,
                       seed: int = 0, sums_attrs: dict | None = None,
                       progress: Callable[[int], None] | None = None,
                       ) -> tuple[xr.Dataset, xr.Dataset | None]:
    """(headline skill, additive score sums or None) of a (sample, member, time, x, y)
    forecast against its truth, in one pass over blocks of about `block_mb` MiB.

    The sums (`analysis.score_sums`) are made only when `sums_attrs` is given; they carry
    those attrs, the evaluation grid and the commit. Both equal their one-block results up
    to float rounding (per-sample means are concatenated, sums added)."""
    from rollflow.analysis.blocks import block_samples, score_blocks
    from rollflow.analysis.score_sums import merge_score_sums, per_state_scores, score_sums
    from rollflow.analysis.scores import sample_scores
    from rollflow.analysis.skill import concat_samples, skill_from_sample_scores
    from rollflow.provenance import git_commit

    scorers = {"scores": sample_scores}
    if sums_attrs is not None:
        attrs = {"grid_size": forecast.sizes[X], **sums_attrs, "rollflow_commit": git_commit()}
        scorers["sums"] = lambda f, t: score_sums(per_state_scores(f, t), attrs)
    parts = score_blocks(forecast, truth, scorers, progress=progress,
                         block_samples=block_samples(forecast, block_mb))
    skill = skill_from_sample_scores(concat_samples(parts["scores"]), truth, seed=seed)
    return skill.compute(), (merge_score_sums(parts["sums"]) if sums_attrs is not None else None)
