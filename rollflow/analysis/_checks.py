"""Input checks and grid geometry shared by the analysis functions.

Every public analysis function validates its DataArrays here, so a wrong input fails with
a `DataError` that names the problem (missing dim, NaN, mismatched grid or coordinates)
instead of a numpy broadcasting error or a silently misaligned result.

Grid convention (see docs/physics.md): x is the first spatial axis, y the second, nodes
x_j = j·L/N on [0, L). The side length L is read from the coordinate *values*
(spacing × N) or, without coordinates, from the attr `flow_domain_size`; the default is
L = 2π. It is never guessed from an array size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from rollflow.conventions import SPEC_ATTR_PREFIX, X, Y
from rollflow.errors import DataError

__all__ = [
    "require_dims", "require_finite", "domain_length", "spectral_grid", "check_same_grid",
    "align_exact", "as_dims", "single_chunk",
]

DOMAIN_ATTR = SPEC_ATTR_PREFIX + "domain_size"
_SPACING_RTOL = 1e-6


def as_dims(dims: str | Iterable[str]) -> tuple[str, ...]:
    """Normalise a dim name or an iterable of names to a tuple."""
    return (dims,) if isinstance(dims, str) else tuple(dims)


def require_dims(obj: xr.DataArray, dims: str | Iterable[str], what: str) -> None:
    """Raise DataError if `obj` lacks any of `dims` (named in the message with `what`)."""
    if not isinstance(obj, xr.DataArray):
        raise DataError(f"{what} must be an xarray.DataArray (got {type(obj).__name__})")
    missing = [d for d in as_dims(dims) if d not in obj.dims]
    if missing:
        raise DataError(f"{what} is missing dim{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(map(repr, missing))}; it has dims {tuple(obj.dims)}")


def require_finite(obj: xr.DataArray, what: str) -> None:
    """Raise DataError if `obj` holds NaN or ±inf (computes lazily-backed data once)."""
    bad = int((~np.isfinite(obj)).sum().compute())
    if bad:
        raise DataError(f"{what} contains {bad} non-finite value{'s' if bad > 1 else ''} "
                        "(NaN or inf)")


def _spacing_from_coord(obj: xr.DataArray, dim: str, what: str) -> float | None:
    if dim not in obj.coords:
        return None
    values = np.asarray(obj[dim].values, dtype=float)
    if values.size < 2:
        raise DataError(f"{what}: dim {dim!r} needs at least 2 points to define a grid")
    steps = np.diff(values)
    step = float(np.mean(steps))
    if step <= 0 or not np.allclose(steps, step, rtol=_SPACING_RTOL, atol=0):
        raise DataError(f"{what}: coordinate {dim!r} is not uniformly increasing "
                        "(expected nodes x_j = j·L/N)")
    return step


def domain_length(obj: xr.DataArray, dim: str, what: str = "input") -> float:
    """Side length L along `dim`: coordinate spacing × N, else attr `flow_domain_size`, else 2π."""
    step = _spacing_from_coord(obj, dim, what)
    if step is not None:
        return step * obj.sizes[dim]
    if DOMAIN_ATTR in obj.attrs:
        return float(obj.attrs[DOMAIN_ATTR])
    return 2 * math.pi


def spectral_grid(obj: xr.DataArray, x: str = X, y: str = Y,
                  what: str = "input") -> tuple[np.ndarray, np.ndarray, float]:
    """Angular wavenumbers (k_x along x, k_y along y, each 1-D) and the fundamental 2π/L.

    k = 2π/L · (0, 1, …, N/2−1, −N/2, …, −1), i.e. integers when L = 2π. Raises DataError
    unless the grid is square (same L on both axes).
    """
    length_x, length_y = domain_length(obj, x, what), domain_length(obj, y, what)
    if not math.isclose(length_x, length_y, rel_tol=_SPACING_RTOL):
        raise DataError(f"{what}: domain is not square (L_x = {length_x:g}, L_y = {length_y:g})")
    k0 = 2 * math.pi / length_x
    kx = k0 * np.fft.fftfreq(obj.sizes[x], d=1.0 / obj.sizes[x])
    ky = k0 * np.fft.fftfreq(obj.sizes[y], d=1.0 / obj.sizes[y])
    return kx, ky, k0


def check_same_grid(a: xr.DataArray, b: xr.DataArray, dims: Sequence[str],
                    names: tuple[str, str]) -> None:
    """Raise DataError if `a` and `b` differ in size or coordinates along any of `dims`."""
    for dim in dims:
        if a.sizes[dim] != b.sizes[dim]:
            raise DataError(f"{names[0]} and {names[1]} have different grids: "
                            f"{dim!r} has {a.sizes[dim]} vs {b.sizes[dim]} points")
        if dim in a.coords and dim in b.coords:
            ca, cb = np.asarray(a[dim].values), np.asarray(b[dim].values)
            same = (np.allclose(ca, cb, rtol=1e-9, atol=1e-12)
                    if np.issubdtype(ca.dtype, np.number) and np.issubdtype(cb.dtype, np.number)
                    else np.array_equal(ca, cb))
            if not same:
                raise DataError(f"{names[0]} and {names[1]} have different {dim!r} "
                                "coordinates (grids or times do not match)")


def align_exact(a: xr.DataArray, b: xr.DataArray,
                names: tuple[str, str]) -> tuple[xr.DataArray, xr.DataArray]:
    """Check every shared dim has equal sizes and coordinates; return both unchanged.

    Unlike xarray's default inner join, nothing is dropped silently.
    """
    shared = [d for d in a.dims if d in b.dims]
    check_same_grid(a, b, shared, names)
    return a, b


def single_chunk(obj: xr.DataArray, dims: Iterable[str]) -> xr.DataArray:
    """Rechunk a dask-backed array so each core dim is one chunk (no-op for numpy data)."""
    if obj.chunks is None:
        return obj
    return obj.chunk({d: -1 for d in dims})


FRAME_BLOCK = 256    # frames per FFT call: ~2 MB of complex 32² frames, cache-sized


def in_frame_blocks(kernel: Callable, *arrays: np.ndarray, frames: int = FRAME_BLOCK,
                    **kwargs) -> Any:
    """`kernel(*arrays, **kwargs)` on blocks of `frames` frames and reassembled.

    Every array is (..., Nx, Ny) with the same leading dims; the kernel treats each frame
    on its own and returns one array, or a tuple, with those leading dims first. The result
    equals one call; the blocks keep numpy's FFT working on cache-sized arrays (one call
    over 3 864 frames of 32² was 10–30× slower than 256 at a time on this project's CPU).
    """
    lead = arrays[0].shape[:-2]
    flat = [a.reshape(-1, *a.shape[-2:]) for a in arrays]
    count = flat[0].shape[0]
    if count <= frames:
        return kernel(*arrays, **kwargs)
    parts = [kernel(*(f[i:i + frames] for f in flat), **kwargs)
             for i in range(0, count, frames)]
    join = lambda pieces: np.concatenate(pieces).reshape(*lead, *pieces[0].shape[1:])
    return tuple(map(join, zip(*parts))) if isinstance(parts[0], tuple) else join(parts)
