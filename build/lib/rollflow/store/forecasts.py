"""The one builder of forecast-format datasets: (sample, member, time, x, y).

Every forecast — a model rollout (`rollflow.forecast`), a solver baseline or persistence
(`rollflow.baselines`) — is wrapped here, so all share coords and layout and are scored
by the same code:

- `sample` and its non-index coordinates (e.g. `trajectory`) from the truth;
- `member` 0 … M − 1;
- `time` continuing the truth's time axis from the initial state (t.u.), and `lead_time`
  along it: 1 … num_frames times stride · Δt;
- `x`, `y` from the truth;
- the truth's `flow_*` (FlowSpec) and `segments_*` attrs — what identifies the truth a
  forecast started from (`rollflow.specs.check_same_truth`) — plus the producer's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from rollflow.conventions import LEAD_TIME, MEMBER, SAMPLE, SPEC_ATTR_PREFIX, TIME, VORTICITY, X, Y
from rollflow.errors import DataError

__all__ = ["forecast_dataset", "truth_attrs", "VORTICITY_FORECAST_ATTRS", "open_for_scoring"]

VORTICITY_FORECAST_ATTRS = {"long_name": "vorticity", "units": "1/t.u."}


def truth_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of a truth store's attrs that identify it: `flow_*` and `segments_*`."""
    return {k: v for k, v in attrs.items()
            if k.startswith(SPEC_ATTR_PREFIX) or k.startswith("segments_")}


def forecast_dataset(values: Any, truth: xr.DataArray, *, init_index: int, frame_stride: int,
                     source_attrs: Mapping[str, Any] | None = None,
                     attrs: Mapping[str, Any] | None = None) -> xr.Dataset:
    """Wrap `values` (sample, member, time, x, y), numpy or dask, as a forecast dataset.

    Args:
        values: the forecast frames, 1/t.u.; `time` holds the frames after the initial
            state, spaced frame_stride saved frames apart; stored as float32.
        truth: the truth's vorticity (sample, time, x, y) the forecast started from (only
            coords and attrs are read).
        init_index: time index of the initial state in `truth`.
        frame_stride: saved frames between forecast frames.
        source_attrs: the truth store's global attrs (default the DataArray's own); their
            identifying entries (`truth_attrs`) are copied.
        attrs: the producer's own attrs (forecast_mode, settings, timings, …).
    """
    missing = [d for d in (SAMPLE, TIME, X, Y) if d not in truth.dims]
    if missing:
        raise DataError(f"truth lacks dims {missing}; expected (sample, time, x, y)")
    if values.ndim != 5 or values.shape[0] != truth.sizes[SAMPLE]:
        raise DataError(f"forecast values must be (sample = {truth.sizes[SAMPLE]}, member, "
                        f"time, x, y) (got shape {tuple(values.shape)})")
    source = truth.attrs if source_attrs is None else source_attrs
    times = truth[TIME].values
    dt = (float(times[1] - times[0]) if times.size > 1
          else float(source.get(SPEC_ATTR_PREFIX + "save_interval", 1.0)))
    lead = np.arange(1, values.shape[2] + 1) * frame_stride * dt
    t0 = float(times[init_index])
    coords = {SAMPLE: truth[SAMPLE].values, MEMBER: np.arange(values.shape[1]),
              TIME: (TIME, t0 + lead, dict(truth[TIME].attrs)),
              LEAD_TIME: (TIME, lead, {"long_name": "time since forecast initialisation",
                                       "units": "t.u."}),
              X: truth[X], Y: truth[Y]}
    coords.update({name: (SAMPLE, coord.values, dict(coord.attrs))
                   for name, coord in truth.coords.items()
                   if coord.dims == (SAMPLE,) and name != SAMPLE})
    da = xr.DataArray(values.astype(np.float32), dims=(SAMPLE, MEMBER, TIME, X, Y),
                      coords=coords, attrs=dict(VORTICITY_FORECAST_ATTRS))
    out_attrs = truth_attrs(source)
    out_attrs.update({"forecast_init_index": init_index, "forecast_init_time": t0,
                      "forecast_frame_stride": frame_stride})
    out_attrs.update(attrs or {})
    return xr.Dataset({VORTICITY: da}, attrs=out_attrs)


def open_for_scoring(forecast_path: Any, truth_path: Any, *,
                     members: int | None = None) -> tuple[xr.Dataset, xr.DataArray,
                                                          xr.DataArray]:
    """(forecast store, forecast vorticity, truth vorticity), lazily, after every check a
    score relies on, each failing in one line: the forecast is finished, it started from
    this very truth (`specs.check_same_truth`), it holds floating-point `vorticity` with
    the forecast dims, and has at least `members` members (then only the first `members`
    are returned)."""
    from rollflow.conventions import FORECAST_DIMS
    from rollflow.errors import StoreError
    from rollflow.specs import check_same_truth
    from rollflow.store.files import open_trajectories
    from rollflow.store.resumable import completed_samples

    done = completed_samples(forecast_path)
    if not done.all():
        raise StoreError(f"{forecast_path} is unfinished ({int(done.sum())} of {done.size} "
                         "samples written); run its forecast command again to finish it")
    forecast_ds = open_trajectories(forecast_path, validate=False)
    truth_ds = open_trajectories(truth_path)
    check_same_truth(forecast_ds.attrs, truth_ds.attrs,
                     names=(str(forecast_path), str(truth_path)))
    if VORTICITY not in forecast_ds:
        raise StoreError(f"{forecast_path} has no {VORTICITY!r} variable (it has "
                         f"{', '.join(map(str, forecast_ds.data_vars)) or 'none'}); is it a "
                         f"forecast store?")
    forecast = forecast_ds[VORTICITY]
    if forecast.dtype.kind != "f":
        raise DataError(f"{forecast_path}: vorticity is {forecast.dtype}; a forecast holds "
                        f"floating-point values (1/t.u.)")
    if set(forecast.dims) != set(FORECAST_DIMS):
        raise DataError(f"{forecast_path}: vorticity has dims {forecast.dims}; a forecast has "
                        f"{FORECAST_DIMS}")
    if members is not None:
        if members > forecast.sizes[MEMBER]:
            raise StoreError(f"{forecast_path} has {forecast.sizes[MEMBER]} members; "
                             f"--members {members} asks for more")
        forecast = forecast.isel({MEMBER: slice(0, members)})
    return forecast_ds, forecast, truth_ds[VORTICITY]
