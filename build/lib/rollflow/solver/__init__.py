"""rollflow.solver: jax-cfd's spectral Kolmogorov-flow solver behind a numpy interface.

The only package that imports jax / jax_cfd. Inputs and outputs are numpy arrays with axes
(sample, [time,] x, y); vorticity in 1/t.u., time in t.u. Modules:

- `equation`: the PDE (jax-cfd `NavierStokes2D` + `kolmogorov_forcing`) and its CN-RK4 step.
- `initial`: filtered random initial vorticity, one PRNG key per sample index.
- `trajectory`: batched, chunked integration with progress and blow-up checks.
- `blowup`: the blow-up criterion.
- `resample`: spectral truncation to the output grid.
"""

from rollflow.solver.initial import random_initial_vorticity
from rollflow.solver.trajectory import advance, integrate, simulate
from rollflow.solver.resample import downsample

__all__ = ["random_initial_vorticity", "advance", "integrate", "simulate", "downsample"]
