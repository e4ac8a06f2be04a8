"""rollflow: rolling-diffusion forecasts of 2D Kolmogorov flow, judged against solvers.

Layers (imports point down only; checked by tests/test_layers.py):

    cli, simulations/, experiments/
    training, forecast, generate
    solver (jax) | store (zarr/netCDF) | analysis (numpy/xarray) | diffusion (torch) | nets (torch)
    specs, configio, errors, conventions (stdlib only)
"""

from rollflow.specs import FlowSpec

__all__ = ["FlowSpec", "__version__"]
__version__ = "0.1.0"
