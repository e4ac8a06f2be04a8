"""rollflow.analysis: physics diagnostics and forecast scores on named-dim xarray data.

numpy kernels wrapped with `xarray.apply_ufunc` (dask="parallelized"), so lazy stores work
unchanged. Dims: trajectories (sample, time, x, y), forecasts (sample, member, time, x, y);
a `model` dim may hold truth vs predictions. Importing this package also registers the
`.rollflow` accessor on DataArrays and Datasets. No torch, jax, zarr or netCDF here.
"""

from rollflow.analysis.accuracy import rmse, vorticity_correlation
from rollflow.analysis.decorrelation import (
    bootstrap_ci, decorrelation_time, mean_curve_decorrelation, paired_decorrelation_difference,
)
from rollflow.analysis.divergence import fit_growth, relative_separation, separation_growth
from rollflow.analysis.ensemble import crps, crps_parts, energy_score, spread_skill
from rollflow.analysis.fields import (
    enstrophy, kinetic_energy, velocity_from_vorticity, vorticity_from_velocity,
)
from rollflow.analysis.plots import (
    plot_correlation, plot_pareto, plot_separation, plot_spectrum, plot_spread_skill,
    plot_vorticity, save_figure,
)
from rollflow.analysis.spectra import (
    energy_spectrum, enstrophy_spectrum, log_spectral_error, spectral_slope,
)
from rollflow.analysis import accessor as _accessor  # noqa: F401  (registers .rollflow)

__all__ = [
    "kinetic_energy", "enstrophy", "velocity_from_vorticity", "vorticity_from_velocity",
    "energy_spectrum", "enstrophy_spectrum", "log_spectral_error", "spectral_slope",
    "vorticity_correlation", "decorrelation_time", "mean_curve_decorrelation",
    "paired_decorrelation_difference",
    "bootstrap_ci", "rmse",
    "crps", "crps_parts", "energy_score", "spread_skill",
    "relative_separation", "fit_growth", "separation_growth",
    "plot_vorticity", "plot_spectrum", "plot_correlation", "plot_spread_skill",
    "plot_separation", "plot_pareto", "save_figure",
]
