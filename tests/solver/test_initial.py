"""Random initial vorticity: shape, zero mean, spectrum, and per-sample keys."""

import jax
import numpy as np
import pytest

from rollflow.errors import DataError
from rollflow.solver import random_initial_vorticity


def test_shape_dtype_zero_mean_and_scale(small_spec):
    omega = random_initial_vorticity(small_spec, [0, 1, 2])
    assert omega.shape == (3, 32, 32) and omega.dtype == np.float32
    assert omega.flags.writeable
    assert np.abs(omega.mean(axis=(-2, -1))).max() < 1e-5 * np.abs(omega).max()
    # |ω| ~ k_peak · u_max = 4 · 7 within a generous factor (not a blown-up or empty field).
    assert 5.0 < np.abs(omega).max() < 200.0


def test_energy_peaks_near_the_requested_wavenumber(small_spec):
    omega = random_initial_vorticity(small_spec, list(range(8))).astype(np.float64)
    k = np.fft.fftfreq(32, 1 / 32)
    shell = np.rint(np.hypot(k[:, None], k[None, :])).astype(int)
    power = (np.abs(np.fft.fft2(omega)) ** 2).mean(axis=0)
    k2 = np.maximum(shell, 1) ** 2
    energy = np.bincount(shell.ravel(), (power / k2).ravel())  # E(k) ∝ |ω̂|²/k²
    assert 2 <= int(np.argmax(energy[1:])) + 1 <= 6


def test_sample_depends_only_on_seed_and_index(small_spec):
    batch = random_initial_vorticity(small_spec, [3, 7, 11])
    np.testing.assert_array_equal(random_initial_vorticity(small_spec, [7])[0], batch[1])
    np.testing.assert_array_equal(random_initial_vorticity(small_spec, [3, 7, 11]), batch)
    assert not np.allclose(batch[0], batch[1])
    other_seed = random_initial_vorticity(small_spec.replace(seed=8), [3])[0]
    assert not np.allclose(other_seed, batch[0])


def test_independent_of_jax_enable_x64(small_spec):
    reference = random_initial_vorticity(small_spec, [2])
    with jax.enable_x64(True):
        np.testing.assert_array_equal(random_initial_vorticity(small_spec, [2]), reference)


@pytest.mark.parametrize("indices", [[], [-1], [2**32]])
def test_rejects_bad_sample_indices(small_spec, indices):
    with pytest.raises(DataError):
        random_initial_vorticity(small_spec, indices)
