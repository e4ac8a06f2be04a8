"""Spectral truncation of periodic fields to a coarser grid (numpy or jax.numpy).

Truncation keeps the Fourier modes |k_x|, |k_y| < n/2 of an (N, N) field and zeroes the
Nyquist row and column of the (n, n) result: an n-point grid cannot tell k = +n/2 from
−n/2, so keeping that mode would fold two fine-grid modes into one (≈ 2 % error against an
ideal low-pass if kept). The result is the ideal low-pass filter of the input sampled on
the n nodes x_j = j L / n, which coincide with every (N/n)-th fine node when N/n is an integer.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from rollflow.errors import DataError

__all__ = ["truncate_hat", "downsample"]


def truncate_hat(field_hat: Any, input_size: int, output_size: int, xp: ModuleType) -> Any:
    """Truncate rfft2 coefficients over the last two axes from N to n points per side.

    Args:
        field_hat: rfft2 of an (…, N, N) real field, shape (…, N, N//2 + 1).
        input_size: N.
        output_size: n (even, ≤ N).
        xp: `numpy` or `jax.numpy`.

    Returns:
        rfft2 coefficients of the truncated (…, n, n) field, shape (…, n, n//2 + 1), scaled
        by (n/N)² so that `irfft2(…, s=(n, n))` gives values in the input's units, with the
        Nyquist row (k_x = −n/2) and column (k_y = n/2) set to zero.
    """
    half = output_size // 2
    top = field_hat[..., :half, :half]
    bottom = field_hat[..., input_size - half + 1:, :half]
    zero_row = xp.zeros_like(field_hat[..., :1, :half])
    rows = xp.concatenate([top, zero_row, bottom], axis=-2)
    zero_col = xp.zeros_like(rows[..., :1])
    scale = (output_size / input_size) ** 2
    return xp.concatenate([rows, zero_col], axis=-1) * scale


def downsample(vorticity: np.ndarray, output_size: int) -> np.ndarray:
    """Spectrally truncate (…, N, N) fields over the last two axes (x, y) to (…, n, n).

    Args:
        vorticity: real array (…, N, N), any leading axes (float32 or float64).
        output_size: n, even, 4 ≤ n ≤ N.

    Returns:
        A new array (…, n, n) of the input's floating dtype (float32 for integer input):
        the ideal low-pass truncation with the Nyquist row and column zeroed; a copy of the
        input if n == N.
    """
    field = np.asarray(vorticity)
    if field.ndim < 2 or field.shape[-1] != field.shape[-2]:
        raise DataError(f"downsample needs (…, N, N) fields, got shape {field.shape}")
    size = field.shape[-1]
    dtype = field.dtype if np.issubdtype(field.dtype, np.floating) else np.dtype(np.float32)
    if not (isinstance(output_size, (int, np.integer)) and output_size % 2 == 0
            and 4 <= output_size <= size):
        raise DataError(f"output_size must be an even integer in [4, {size}], got {output_size!r}")
    if output_size == size:
        return field.astype(dtype, copy=True)
    field_hat = np.fft.rfft2(field, axes=(-2, -1))
    out_hat = truncate_hat(field_hat, size, int(output_size), np)
    out = np.fft.irfft2(out_hat, s=(output_size, output_size), axes=(-2, -1))
    return out.astype(dtype, copy=False)
