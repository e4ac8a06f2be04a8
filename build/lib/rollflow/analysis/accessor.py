"""`.rollflow` accessor on DataArrays and Datasets, so notebook users chain calls:

    ds.rollflow.energy_spectrum(average_dims="time").rollflow.plot_spectrum()
    forecast.rollflow.correlation(truth).rollflow.decorrelation_time()

On a Dataset the methods act on its `vorticity` variable. Every method forwards to the
public function of the same name in `rollflow.analysis` (same keywords, same checks).
"""

from __future__ import annotations

import xarray as xr

from rollflow.analysis import accuracy, decorrelation, divergence, ensemble, fields, plots, spectra
from rollflow.conventions import VORTICITY
from rollflow.errors import DataError

__all__ = ["RollflowAccessor"]


class RollflowAccessor:
    """Analysis methods on a vorticity DataArray (or a Dataset's `vorticity` variable)."""

    def __init__(self, obj: xr.DataArray | xr.Dataset):
        self._obj = obj

    @property
    def vorticity(self) -> xr.DataArray:
        """The DataArray itself, or the Dataset's `vorticity` variable."""
        if isinstance(self._obj, xr.DataArray):
            return self._obj
        if VORTICITY not in self._obj:
            raise DataError(f"dataset has no {VORTICITY!r} variable; "
                            f"variables: {list(self._obj.data_vars)}")
        return self._obj[VORTICITY]

    # fields and spectra
    def velocity(self, **kw) -> xr.Dataset:
        return fields.velocity_from_vorticity(self.vorticity, **kw)

    def kinetic_energy(self, **kw) -> xr.DataArray:
        return fields.kinetic_energy(self.vorticity, **kw)

    def enstrophy(self, **kw) -> xr.DataArray:
        return fields.enstrophy(self.vorticity, **kw)

    def energy_spectrum(self, **kw) -> xr.DataArray:
        return spectra.energy_spectrum(self.vorticity, **kw)

    def enstrophy_spectrum(self, **kw) -> xr.DataArray:
        return spectra.enstrophy_spectrum(self.vorticity, **kw)

    # forecast against truth (self = prediction or forecast ensemble)
    def correlation(self, truth, **kw) -> xr.DataArray:
        return accuracy.vorticity_correlation(self.vorticity, _field(truth), **kw)

    def rmse(self, truth, **kw) -> xr.DataArray:
        return accuracy.rmse(self.vorticity, _field(truth), **kw)

    def crps(self, truth, **kw) -> xr.DataArray:
        return ensemble.crps(self.vorticity, _field(truth), **kw)

    def spread_skill(self, truth, **kw) -> xr.Dataset:
        return ensemble.spread_skill(self.vorticity, _field(truth), **kw)

    def separation_growth(self, perturbed=None, **kw) -> xr.Dataset:
        other = None if perturbed is None else _field(perturbed)
        return divergence.separation_growth(self.vorticity, other, **kw)

    # curves (self = a correlation curve or a spectrum)
    def decorrelation_time(self, **kw) -> xr.DataArray:
        return decorrelation.decorrelation_time(self._obj, **kw)

    def plot_spectrum(self, **kw):
        return plots.plot_spectrum(self._obj, **kw)

    def plot_correlation(self, **kw):
        return plots.plot_correlation(self._obj, **kw)


def _field(obj: xr.DataArray | xr.Dataset) -> xr.DataArray:
    return RollflowAccessor(obj).vorticity


xr.register_dataarray_accessor("rollflow")(RollflowAccessor)
xr.register_dataset_accessor("rollflow")(RollflowAccessor)
