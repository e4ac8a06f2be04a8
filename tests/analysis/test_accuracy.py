"""Vorticity correlation and RMSE: exact values, broadcasting, lazy input, bad input."""

import numpy as np
import pytest
import xarray as xr
from synthetic import field

from rollflow.analysis import rmse, vorticity_correlation
from rollflow.errors import DataError


def test_correlation_identical_and_negated(rng):
    truth = field(rng.standard_normal((2, 3, 8, 8)))
    np.testing.assert_allclose(vorticity_correlation(truth, truth).values, 1.0)
    np.testing.assert_allclose(vorticity_correlation(-truth, truth).values, -1.0)
    assert vorticity_correlation(truth, truth).dims == ("sample", "time")


def test_correlation_of_orthogonal_modes_is_zero():
    x = np.arange(16) * 2 * np.pi / 16
    xx, yy = np.meshgrid(x, x, indexing="ij")
    a, b = field(np.cos(xx), dims=("x", "y")), field(np.sin(2 * yy), dims=("x", "y"))
    assert abs(float(vorticity_correlation(a, b))) < 1e-12


def test_member_dim_broadcasts_and_lazy_matches(rng):
    truth = field(rng.standard_normal((2, 3, 8, 8)))
    members = xr.concat([truth, -truth, 2 * truth], dim="member")
    rho = vorticity_correlation(members, truth)
    assert set(rho.dims) == {"member", "sample", "time"}
    np.testing.assert_allclose(rho.sel(member=1).values, -1.0)
    lazy = vorticity_correlation(members.chunk({"member": 1}), truth.chunk())
    xr.testing.assert_allclose(rho, lazy.compute())


def test_rmse_values(rng):
    truth = field(rng.standard_normal((2, 3, 8, 8)))
    assert float(rmse(truth + 0.5, truth).max()) == pytest.approx(0.5)
    curve = rmse(truth + 0.5, truth, mean_dims=("sample", "x", "y"))
    assert curve.dims == ("time",)
    np.testing.assert_allclose(curve.values, 0.5)
    noisy = truth + rng.standard_normal(truth.shape)
    lazy = rmse(noisy.chunk({"time": 1}), truth.chunk(), mean_dims=("sample", "x", "y"))
    assert lazy.chunks is not None
    xr.testing.assert_allclose(rmse(noisy, truth, mean_dims=("sample", "x", "y")),
                               lazy.compute())


def test_mismatched_inputs_are_named(rng):
    truth = field(rng.standard_normal((2, 3, 8, 8)))
    with pytest.raises(DataError, match="different 'x' coordinates"):
        vorticity_correlation(truth.assign_coords(x=truth.x + 0.1), truth)
    with pytest.raises(DataError, match="'time' has 2 vs 3"):
        vorticity_correlation(truth.isel(time=slice(0, 2)), truth)
    with pytest.raises(DataError, match="different 'time' coordinates"):
        rmse(truth.assign_coords(time=truth.time + 1), truth)
    with pytest.raises(DataError, match="truth is missing dim 'y'"):
        vorticity_correlation(truth, truth.isel(y=0))
    with pytest.raises(DataError, match="prediction contains 1 non-finite"):
        vorticity_correlation(truth.where(truth.x + truth.y + truth.time + truth.sample > 0),
                              truth)
    with pytest.raises(DataError, match="no dim 'member'"):
        rmse(truth, truth, mean_dims=("member",))
