"""exponax's Kolmogorov-flow stepper behind the solver's step interface (optional backend).

`exponax.stepper.KolmogorovFlowVorticity` integrates, with ETDRK of order 2 and 2/3
dealiasing of the nonlinearity,

    ∂ω/∂t = −b (ũ·∇ω) + λ ω + ν ∇²ω + f,   ũ = (∂₁s, −∂₀s),  s = Δ⁻¹ω,
    f = −k (2π/L) γ cos(k (2π/L) x₁).

rollflow's equation (docs/physics.md) is ∂ω/∂t + u·∇ω = ν∇²ω − αω − A k_f cos(k_f y) with
∇²ψ = −ω, u = (∂_y ψ, −∂_x ψ). Since s = −ψ, exponax's ũ is −u: its convection is ours
with b = −1 (checked: the cross-check with jax-cfd and the eddy momentum flux's sign,
tests/solver/test_exponax.py). The rest maps one to one: λ = −α, γ = A, k = k_f L/(2π),
x₀ = x (first axis), x₁ = y. Fourier states are jnp.fft.rfft2 of (N, N) fields, as in
jax-cfd's path; exponax adds a leading channel axis of 1.

Only this module (and it only when the backend is asked for) imports exponax.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax

from rollflow.errors import SpecError

__all__ = ["make_exponax_frame_fn", "ORDER"]

ORDER = 2
"""ETDRK order (exponax's default, "a good compromise for single precision")."""


def _stepper(config):
    try:
        from exponax.stepper import KolmogorovFlowVorticity
    except ImportError:
        raise SpecError("backend = \"exponax\" needs the optional extra: pip install "
                        "'rollflow[exponax]' (jax-cfd, the default backend, needs nothing more)"
                        ) from None
    return KolmogorovFlowVorticity(
        2, config.domain_size, config.simulation_size, config.time_step,
        diffusivity=config.viscosity, convection_scale=-1.0, drag=-config.drag,
        injection_mode=round(config.forcing_wavenumber * config.domain_size / (2 * math.pi)),
        injection_scale=config.forcing_amplitude, order=ORDER, dealiasing_fraction=2 / 3)


def make_exponax_frame_fn(config) -> Callable[[jax.Array], jax.Array]:
    """`config.steps_per_frame` exponax steps of `config.time_step`: vorticity_hat
    (N, N//2+1) → vorticity_hat, the interface of `equation.make_frame_fn`."""
    stepper = _stepper(config)

    def frame_fn(vorticity_hat: jax.Array) -> jax.Array:
        state = jax.lax.fori_loop(0, config.steps_per_frame,
                                  lambda _, s: stepper.step_fourier(s), vorticity_hat[None])
        return state[0]

    return frame_fn
