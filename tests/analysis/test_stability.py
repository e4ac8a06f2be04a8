"""Long-rollout stability: finite share, kinetic-energy range, climatological spectrum."""

import numpy as np
import pytest
import xarray as xr

from rollflow.analysis.stability import rollout_stability
from rollflow.errors import DataError

from synthetic import field, power_law_vorticity


def _truth(rng, frames=20, n=16):
    return field(power_law_vorticity(n, -3.0, rng, lead=(2, frames)))


def _rollout(values):
    return field(values, dims=("sample", "member", "time", "x", "y"))


def test_truth_resampled_as_rollout_is_perfectly_stable(rng):
    truth = _truth(rng)
    rollout = _rollout(truth.values[:, None])
    out = rollout_stability(rollout, truth)
    assert float(out.share_finite) == float(out.share_in_range) == 1.0
    assert float(out.share_frames_in_range) == 1.0
    assert float(out.log_spectral_error) < 1e-9


def test_blow_up_and_energy_drift_are_counted(rng):
    truth = _truth(rng)
    values = np.repeat(truth.values[:, None], 2, axis=1).copy()     # 2 samples × 2 members
    values[0, 0, 5:] = np.nan                                         # one rollout blows up
    values[1, 1, 10:] *= 3.0                                          # one gains 9× energy
    out = rollout_stability(_rollout(values), truth)
    assert float(out.share_finite) == 0.75
    assert float(out.share_in_range) == 0.5
    assert float(out.share_frames_in_range) == pytest.approx((40 + 10) / 80)
    assert float(out.log_spectral_error) > 0.1                        # the loud one biases E(k)


def test_all_blown_up_gives_nan_error_and_grid_mismatch_is_refused(rng):
    truth = _truth(rng)
    values = np.full((1, 1, 4, 16, 16), np.nan)
    out = rollout_stability(_rollout(values), truth)
    assert float(out.share_finite) == 0.0 and np.isnan(float(out.log_spectral_error))
    with pytest.raises(DataError, match="grid"):
        rollout_stability(_rollout(np.zeros((1, 1, 2, 8, 8))), truth)
