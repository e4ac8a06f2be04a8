"""The `.rollflow` accessor forwards to the public functions."""

import numpy as np
import xarray as xr
from synthetic import field

import rollflow.analysis as ra


def test_dataarray_and_dataset_chains(rng):
    w = field(rng.standard_normal((2, 3, 16, 16)))
    ds = w.to_dataset()
    xr.testing.assert_identical(ds.rollflow.energy_spectrum(average_dims="time"),
                                ra.energy_spectrum(w, average_dims="time"))
    xr.testing.assert_identical(w.rollflow.kinetic_energy(), ra.kinetic_energy(w))
    rho = (w + 0.1).rollflow.correlation(ds)
    xr.testing.assert_identical(rho.rollflow.decorrelation_time(thresholds=[0.99]),
                                ra.decorrelation_time(rho, thresholds=[0.99]))
    members = xr.concat([w, -w], dim="member")
    xr.testing.assert_identical(members.rollflow.crps(w), ra.crps(members, w))
    assert set(members.rollflow.spread_skill(w)) == {"rmse", "spread", "spread_skill"}
    growth = w.rollflow.separation_growth(w * (1 + 1e-3))
    np.testing.assert_allclose(growth.separation.values, 1e-3, rtol=1e-9)


def test_dataset_without_vorticity_is_a_data_error():
    import pytest

    from rollflow.errors import DataError
    with pytest.raises(DataError, match="no 'vorticity' variable"):
        xr.Dataset({"u": ("x", [1.0])}).rollflow.kinetic_energy()
