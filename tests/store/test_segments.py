"""Segments of a long store: frames bit for bit, a trajectory label per state, a valid store."""

import numpy as np
import pytest

from rollflow.errors import DataError
from rollflow.specs import FlowSpec
from rollflow.store import (cut_segments, open_trajectories, save_dataset,
                            trajectories_to_dataset)


def test_segments_keep_frames_and_label_their_trajectory(tmp_path):
    spec = FlowSpec(simulation_size=16, output_size=8, num_frames=20, num_samples=3,
                    warmup_time=0.4, seed=2)
    values = np.random.default_rng(0).standard_normal((3, 20, 8, 8)).astype(np.float32)
    source = trajectories_to_dataset(values, spec)
    seg = cut_segments(source, starts=[1, 7, 12], num_frames=8, source_name="long.zarr")
    save_dataset(seg, tmp_path / "seg.zarr")
    back = open_trajectories(tmp_path / "seg.zarr")          # a valid store of its own spec
    assert back.sizes["sample"] == 9 and back.sizes["time"] == 8
    for k in range(9):
        trajectory, start = divmod(k, 3)
        first = [1, 7, 12][start]
        assert np.array_equal(back.vorticity.values[k], values[trajectory, first:first + 8])
        assert int(back.trajectory.values[k]) == trajectory
        assert back.segment_start_time.values[k] == pytest.approx(first * spec.save_interval)
    assert back.attrs["segments_starts"] == "1 7 12"
    with pytest.raises(DataError, match="need 21 frames; the store has 20"):
        cut_segments(source, starts=[0, 13], num_frames=8)
