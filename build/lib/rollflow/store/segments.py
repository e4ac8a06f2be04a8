"""Several initial states per trajectory: a long store cut into equal segments.

A forecast starts from one state of each sample. To score a model on several states of
each trajectory with the tools that take one state per sample (`rollflow forecast`,
`baseline`, `evaluate`), `cut_segments` turns a store of S trajectories into one of
S × len(starts) samples, each `num_frames` frames from a start index, and records which
trajectory each came from in a `trajectory` coordinate along `sample` (and the start in
`segment_start_time`, t.u. since the end of warm-up). The bootstrap then resamples whole
trajectories (`rollflow.analysis.resample_weights`): states of one trajectory are not
independent.

The result is a trajectory store of its own spec (same physics and grid; `num_samples`,
`num_frames` those of the segments) whose `segments_source`, `segments_starts` attrs name
where it was cut from; its frames are the source's, bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from rollflow.conventions import SAMPLE, TIME, TRAJECTORY, VORTICITY
from rollflow.errors import DataError
from rollflow.specs import FlowSpec
from rollflow.store.dataset import trajectories_to_dataset

__all__ = ["cut_segments", "SEGMENT_START"]

SEGMENT_START = "segment_start_time"


def cut_segments(source: xr.Dataset, *, starts: Sequence[int], num_frames: int,
                 source_name: str = "") -> xr.Dataset:
    """Segments [start, start + num_frames) of every sample, for each start index.

    Sample k of the result is trajectory k // len(starts) from start
    starts[k % len(starts)]. DataError if a segment runs past the source's last frame.
    """
    spec = FlowSpec.from_attrs(source.attrs)
    starts = [int(s) for s in starts]
    available = source.sizes[TIME]
    if not starts or min(starts) < 0 or max(starts) + num_frames > available:
        raise DataError(f"segments of {num_frames} frames from {starts} need "
                        f"{max(starts, default=0) + num_frames} frames; the store has "
                        f"{available}")
    vorticity = source[VORTICITY].transpose(SAMPLE, TIME, ...)
    parts = [np.asarray(vorticity.isel({TIME: slice(s, s + num_frames)}).values)
             for s in starts]
    values = np.stack(parts, axis=1).reshape(-1, num_frames, *parts[0].shape[2:])
    segment_spec = spec.replace(num_samples=values.shape[0], num_frames=num_frames)
    ds = trajectories_to_dataset(values, segment_spec, attrs={
        "segments_source": source_name, "segments_starts": " ".join(map(str, starts))})
    trajectories = np.repeat(np.asarray(source[SAMPLE].values), len(starts))
    start_times = np.tile(np.asarray(source[TIME].values)[starts], source.sizes[SAMPLE])
    return ds.assign_coords({
        TRAJECTORY: (SAMPLE, trajectories, {"long_name": "source trajectory (sample index)"}),
        SEGMENT_START: (SAMPLE, start_times, {"units": "t.u.",
                                              "long_name": "segment start in the source"})})
