"""Random initial vorticity: jax-cfd's filtered random velocity, curled, zero mean.

`filtered_velocity_field` draws a divergence-free staggered velocity whose spectrum is
log-normal around `initial_peak_wavenumber` and rescales it to `initial_max_velocity`;
`finite_differences.curl_2d` turns it into vorticity ω = ∂_x v − ∂_y u on the cell corners,
which we take as the nodes (the half-cell shift of a random field does not matter; the
warm-up removes the finite-volume/spectral mismatch, as in Kochkov et al. 2021).

The field is always drawn in float32, also when the caller enabled `jax_enable_x64` (in
float64 `jax.random.normal` returns different numbers), so a sample's initial state
depends on (seed, index) only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax_cfd.base import finite_differences, initial_conditions

from rollflow.errors import DataError
from rollflow.solver.equation import make_grid
from rollflow.specs import FlowSpec

__all__ = ["random_initial_vorticity", "sample_key"]


def sample_key(seed: int, sample_index: int) -> jax.Array:
    """The PRNG key of sample i: fold_in(PRNGKey(seed), i), independent of the batch."""
    return jax.random.fold_in(jax.random.PRNGKey(seed), sample_index)


@functools.lru_cache(maxsize=16)
def _make_initial_fn(size: int, domain_size: float, max_velocity: float,
                     peak_wavenumber: float) -> Callable[[jax.Array], jax.Array]:
    """Jitted keys (B, 2) → vorticity (B, size, size); call it with x64 disabled."""
    grid = make_grid(size, domain_size)

    def one(key: jax.Array) -> jax.Array:
        velocity = initial_conditions.filtered_velocity_field(
            key, grid, maximum_velocity=max_velocity, peak_wavenumber=peak_wavenumber)
        vorticity = finite_differences.curl_2d(velocity).data
        return vorticity - jnp.mean(vorticity)

    return jax.jit(jax.vmap(one))


def random_initial_vorticity(spec: FlowSpec, sample_indices: Sequence[int]) -> np.ndarray:
    """Filtered random initial vorticity at simulation resolution.

    Args:
        spec: uses simulation_size, domain_size, initial_max_velocity (L/t.u.),
            initial_peak_wavenumber and seed.
        sample_indices: B non-negative sample indices; sample i uses the key
            `fold_in(PRNGKey(spec.seed), i)`, so it does not depend on the batch.

    Returns:
        (B, N_sim, N_sim) float32 vorticity, 1/t.u., spatial mean 0, axes (x, y).
    """
    indices = [int(i) for i in sample_indices]
    if not indices or min(indices) < 0 or max(indices) >= 2**32:
        raise DataError(f"sample_indices must be a non-empty list of integers in [0, 2**32), "
                        f"got {list(sample_indices)!r}")
    initial_fn = _make_initial_fn(spec.simulation_size, spec.domain_size,
                                  spec.initial_max_velocity, spec.initial_peak_wavenumber)
    with jax.enable_x64(False):
        keys = jnp.stack([sample_key(spec.seed, i) for i in indices])
        return np.array(initial_fn(keys), dtype=np.float32)
