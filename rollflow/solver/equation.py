"""The Kolmogorov-flow equation and its time step, built from jax-cfd's spectral solver.

The PDE, in vorticity form on the periodic square [0, L)² (x = first array axis, y = second):

    ∂ω/∂t + u·∇ω = ν ∇²ω − α ω + f_ω,   f_ω = −A k_f cos(k_f y),

u = (∂_y ψ, −∂_x ψ) with ψ̂ = ω̂ / |k|², so that ω = ∂_x v − ∂_y u. jax-cfd's
`NavierStokes2D` carries ν ∇² − α as the implicit (Crank–Nicolson) term and the advection
plus the curl of `kolmogorov_forcing` (F = A sin(k_f y) x̂, sampled on the nodes) as the
explicit (low-storage RK4, Carpenter–Kennedy) term; advection is dealiased with the 2/3
brick-wall filter. The curl of F is −A k_f cos(k_f y) (checked in
`jax_cfd.spectral.utils.spectral_curl_2d`: 2πi (k_x v̂ − k_y û)).

The state of every function here is `vorticity_hat = rfft2(ω)`, shape (N, N//2 + 1), in
float32 unless `jax_enable_x64` is on (then float64).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax_cfd.base import forcings, funcutils, grids
from jax_cfd.spectral import equations, time_stepping
from jax_cfd.spectral import utils as spectral_utils

from rollflow.errors import SpecError
from rollflow.specs import FlowSpec

__all__ = [
    "StepConfig", "make_grid", "make_equation", "make_step_fn", "make_frame_fn",
    "make_velocity_fn", "real_dtype", "FFTS_PER_STEP",
]

# FFTs in one CN-RK4 step, counted from the installed source and the compiled HLO
# (jax-cfd 0.2.1): 5 explicit-term evaluations, each 4 irfft2 (u, v, ∂_xω, ∂_yω) and 1 rfft2
# (advection). `NavierStokes2D` also takes rfft2 of the constant forcing (F_x, F_y) inside
# the explicit term; XLA merges those into 2 per step, so the compiled step holds 27.
FFTS_PER_STEP = {"irfft2": 20, "rfft2": 5, "rfft2_forcing": 2}


def real_dtype() -> jnp.dtype:
    """float64 when the caller enabled `jax_enable_x64`, else float32 (the default)."""
    return jnp.dtype(jnp.float64 if jax.config.read("jax_enable_x64") else jnp.float32)


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepConfig:
    """The part of a `FlowSpec` that defines the solver step (hashable; a cache key).

    Attributes:
        simulation_size: grid points per side N.
        domain_size: side length L.
        viscosity: ν, L²/t.u.
        drag: α, 1/t.u.
        forcing_wavenumber: k_f of sin(k_f y), angular (k_f L / 2π must be an integer).
        forcing_amplitude: A of F = A sin(k_f y) x̂.
        time_step: solver step dt, t.u.
        steps_per_frame: solver steps per saved interval.
        enable_x64: whether the step runs in float64.
        backend: "jaxcfd" (CN-RK4) or "exponax" (ETDRK2, `exponax_step`).
    """

    simulation_size: int
    domain_size: float
    viscosity: float
    drag: float
    forcing_wavenumber: int
    forcing_amplitude: float
    time_step: float
    steps_per_frame: int
    enable_x64: bool
    backend: str = "jaxcfd"

    @classmethod
    def from_spec(cls, spec: FlowSpec) -> "StepConfig":
        """The step configuration of `spec`; raises SpecError if sin(k_f y) is not periodic."""
        cycles = spec.forcing_wavenumber * spec.domain_size / (2 * math.pi)
        if abs(cycles - round(cycles)) > 1e-9 * max(1.0, cycles):
            raise SpecError(
                f"forcing sin({spec.forcing_wavenumber} y) is not periodic on a domain of size "
                f"{spec.domain_size}; k_f L / 2π must be an integer")
        return cls(simulation_size=spec.simulation_size, domain_size=spec.domain_size,
                   viscosity=spec.viscosity, drag=spec.drag,
                   forcing_wavenumber=spec.forcing_wavenumber,
                   forcing_amplitude=spec.forcing_amplitude, time_step=spec.time_step,
                   steps_per_frame=spec.steps_per_frame,
                   enable_x64=real_dtype() == jnp.float64, backend=spec.backend)


def make_grid(size: int, domain_size: float) -> grids.Grid:
    """A (size, size) jax-cfd grid on [0, L)², nodes x_j = j L / size."""
    return grids.Grid((size, size), domain=((0.0, domain_size), (0.0, domain_size)))


def make_equation(config: StepConfig) -> equations.NavierStokes2D:
    """jax-cfd's spectral vorticity equation with drag and Kolmogorov forcing on the nodes."""
    grid = make_grid(config.simulation_size, config.domain_size)

    def forcing_fn(g: grids.Grid) -> forcings.ForcingFn:
        return forcings.kolmogorov_forcing(g, scale=config.forcing_amplitude,
                                           k=config.forcing_wavenumber,
                                           offsets=((0, 0), (0, 0)))

    return equations.NavierStokes2D(config.viscosity, grid, drag=config.drag, smooth=True,
                                    forcing_fn=forcing_fn)


def make_step_fn(config: StepConfig) -> Callable[[jax.Array], jax.Array]:
    """One CN-RK4 step of length `config.time_step`: vorticity_hat (N, N//2+1) → same."""
    return time_stepping.crank_nicolson_rk4(make_equation(config), config.time_step)


def make_frame_fn(config: StepConfig) -> Callable[[jax.Array], jax.Array]:
    """`steps_per_frame` steps (one saved interval): vorticity_hat → vorticity_hat, with the
    configuration's backend."""
    if config.backend == "exponax":
        from rollflow.solver.exponax_step import make_exponax_frame_fn

        return make_exponax_frame_fn(config)
    return funcutils.repeated(make_step_fn(config), config.steps_per_frame)


VelocityFn = Callable[[jax.Array], tuple[jax.Array, jax.Array]]


def make_velocity_fn(config: StepConfig) -> VelocityFn:
    """vorticity_hat (N, N//2+1) → velocity (u, v), each real (N, N); u = ∂_y ψ, v = −∂_x ψ."""
    grid = make_grid(config.simulation_size, config.domain_size)
    velocity_hat_fn = spectral_utils.vorticity_to_velocity(grid)
    shape = grid.shape

    def velocity_fn(vorticity_hat: jax.Array) -> tuple[jax.Array, jax.Array]:
        u_hat, v_hat = velocity_hat_fn(vorticity_hat)
        return jnp.fft.irfft2(u_hat, s=shape), jnp.fft.irfft2(v_hat, s=shape)

    return velocity_fn
