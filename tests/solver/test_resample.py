"""Spectral truncation: ideal low-pass + subsampling, exact on band-limited fields."""

import numpy as np
import pytest

from rollflow.errors import DataError
from rollflow.solver import downsample


def _nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(n) * 2 * np.pi / n
    return np.meshgrid(x, x, indexing="ij")


def _band_limited(n: int, kmax: int, rng: np.random.Generator) -> callable:
    """A random trigonometric polynomial with |k_x|, |k_y| ≤ kmax, as a function of (x, y)."""
    modes = [(kx, ky, rng.normal(), rng.normal())
             for kx in range(-kmax, kmax + 1) for ky in range(0, kmax + 1)]

    def field(x, y):
        return sum(a * np.cos(kx * x + ky * y) + b * np.sin(kx * x + ky * y)
                   for kx, ky, a, b in modes)
    return field


def test_exact_on_band_limited_field():
    field = _band_limited(64, kmax=7, rng=np.random.default_rng(0))  # 7 < 16/2
    fine = field(*_nodes(64))
    coarse = downsample(fine, 16)
    np.testing.assert_allclose(coarse, field(*_nodes(16)), atol=1e-11 * np.abs(fine).max())


def test_equals_ideal_low_pass_then_subsampling():
    rng = np.random.default_rng(1)
    fine = rng.normal(size=(3, 64, 64))
    n = 16
    k = np.fft.fftfreq(64, 1 / 64)
    keep = (np.abs(k)[:, None] < n // 2) & (np.abs(k)[None, :] < n // 2)
    ideal = np.fft.ifft2(np.fft.fft2(fine) * keep).real[:, ::4, ::4]
    np.testing.assert_allclose(downsample(fine, n), ideal, atol=1e-12)


def test_nyquist_zeroed_mean_kept_leading_axes_and_dtype():
    rng = np.random.default_rng(2)
    fine = (rng.normal(size=(2, 3, 32, 32)) + 0.5).astype(np.float32)
    coarse = downsample(fine, 8)
    assert coarse.shape == (2, 3, 8, 8) and coarse.dtype == np.float32
    coarse_hat = np.fft.rfft2(coarse.astype(np.float64))
    assert np.abs(coarse_hat[..., 4, :]).max() < 1e-4
    assert np.abs(coarse_hat[..., :, 4]).max() < 1e-4
    np.testing.assert_allclose(coarse.mean(axis=(-2, -1)), fine.mean(axis=(-2, -1)), atol=1e-6)


def test_identity_when_sizes_equal_returns_a_writable_copy():
    fine = np.random.default_rng(3).normal(size=(2, 16, 16))
    out = downsample(fine, 16)
    np.testing.assert_array_equal(out, fine)
    out[0, 0, 0] = 99.0
    assert fine[0, 0, 0] != 99.0


@pytest.mark.parametrize("size", [7, 2, 64])
def test_rejects_bad_output_size(size):
    with pytest.raises(DataError):
        downsample(np.zeros((32, 32)), size)


def test_rejects_non_square_fields():
    with pytest.raises(DataError):
        downsample(np.zeros((32, 16)), 8)
