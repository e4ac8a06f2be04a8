"""The symmetry group of Kolmogorov flow as exact index maps on the store's node grid.

With the body force F = sin(k_f y) x̂ on the periodic square [0, 2π)², the vorticity
equation (rollflow.specs) is invariant under (Chandler & Kerswell 2013; METHOD.md §1)

- x-translations        T_a: ω(x, y) → ω(x − a, y);
- the shift-reflect     S:   ω(x, y) → −ω(−x, y + π/k_f);
- the rotation by π     R:   ω(x, y) → ω(−x, −y).

Every element of the group they generate has the form

    (g·ω)(x, y) = ε δ · ω(ε x + a, δ y + m π/k_f),   ε, δ ∈ {±1},  ε δ = (−1)^m,

with m ∈ {0, …, 2k_f − 1} (S^m: δ = +1; R S^m: δ = −1) and a ∈ [0, 2π): a dihedral group
of order 4k_f times the translations. The sign ε δ says that vorticity, a pseudoscalar,
flips under an orientation-reversing map (exactly one axis reflected).

On the node grid x_i = 2π i/N (left end included, `rollflow.conventions.GRID_NODES`) each
element is an exact index map, with no interpolation:

    (g·ω)[i, j] = ε δ · ω[(ε i + p) mod N, (δ j + m N/(2k_f)) mod N],

p = a N/(2π) an integer shift and N divisible by 2k_f (the y-shift by π/k_f must land on
a node). At N = 32, k_f = 4 that is 32 × 16 = 512 elements.

Stdlib + numpy; works on numpy arrays and on torch tensors alike (plain indexing), with x
and y the last two axes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from rollflow.errors import DataError

__all__ = ["GroupElement", "IDENTITY", "check_grid_admits", "group_order",
           "element_from_index", "index_maps", "apply_element", "inverse", "random_elements"]


@dataclasses.dataclass(frozen=True)
class GroupElement:
    """One element ω → ε δ · ω(ε x + a, δ y + m π/k_f) of the Kolmogorov-flow group.

    Attributes:
        shift: p = a N/(2π), the x-offset in grid points (any integer; taken mod N).
        reflect_y: δ = −1 (the element contains the rotation R) if True, else δ = +1.
        half_periods: m, the y-offset in units of π/k_f (taken mod 2k_f); it fixes
            ε = δ (−1)^m and the vorticity sign ε δ = (−1)^m.
    """

    shift: int = 0
    reflect_y: bool = False
    half_periods: int = 0

    @property
    def delta(self) -> int:
        """δ: −1 where y is reflected."""
        return -1 if self.reflect_y else 1

    @property
    def epsilon(self) -> int:
        """ε = δ (−1)^m: −1 where x is reflected."""
        return self.delta * (-1 if self.half_periods % 2 else 1)

    @property
    def sign(self) -> int:
        """ε δ = (−1)^m: the factor on vorticity."""
        return -1 if self.half_periods % 2 else 1


IDENTITY = GroupElement()


def check_grid_admits(grid_size: int, forcing_wavenumber: int) -> None:
    """DataError (one line) unless the y-shift π/k_f lands on a node: N % (2 k_f) == 0."""
    if forcing_wavenumber < 1 or grid_size % (2 * forcing_wavenumber):
        raise DataError(f"the shift-reflect symmetry needs the grid size divisible by "
                        f"2·k_f = {2 * forcing_wavenumber} (y-shift of π/k_f = N/(2k_f) "
                        f"points); this store's grid is {grid_size}², so use "
                        f"augment = \"translations\" or \"none\"")


def group_order(grid_size: int, forcing_wavenumber: int) -> int:
    """Number of distinct elements on an N² grid: N translations × 4 k_f."""
    check_grid_admits(grid_size, forcing_wavenumber)
    return grid_size * 4 * forcing_wavenumber


def element_from_index(index: int, grid_size: int, forcing_wavenumber: int) -> GroupElement:
    """The element numbered `index` ∈ [0, group_order) (a fixed enumeration: index 0 is the
    identity; shift fastest, then m, then the y-reflection)."""
    order = group_order(grid_size, forcing_wavenumber)
    if not 0 <= index < order:
        raise ValueError(f"group element index {index} out of range [0, {order})")
    rest, shift = divmod(index, grid_size)
    reflect, half_periods = divmod(rest, 2 * forcing_wavenumber)
    return GroupElement(shift=shift, reflect_y=bool(reflect), half_periods=half_periods)


def index_maps(element: GroupElement, grid_size: int,
               forcing_wavenumber: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(ix (N,), iy (N,), sign): (g·ω)[i, j] = sign · ω[ix[i], iy[j]]."""
    check_grid_admits(grid_size, forcing_wavenumber)
    n = grid_size
    nodes = np.arange(n)
    ix = (element.epsilon * nodes + element.shift) % n
    iy = (element.delta * nodes + element.half_periods * (n // (2 * forcing_wavenumber))) % n
    return ix, iy, element.sign


def apply_element(field: Any, element: GroupElement, forcing_wavenumber: int) -> Any:
    """g·ω for a numpy array or torch tensor whose last two axes are (x, y) on an N² grid.

    Exact (a gather and a sign), so it commutes with any per-point operation; the result
    is a new array of the same shape and dtype."""
    nx, ny = field.shape[-2], field.shape[-1]
    if nx != ny:
        raise DataError(f"the symmetry maps need a square grid (got {nx}×{ny})")
    ix, iy, sign = index_maps(element, nx, forcing_wavenumber)
    moved = field[..., ix, :][..., iy]          # torch accepts numpy index arrays too
    return moved if sign == 1 else -moved


def inverse(element: GroupElement, grid_size: int) -> GroupElement:
    """g⁻¹, with g⁻¹·(g·ω) = ω exactly."""
    # g: ω → s ω(ε x + a, δ y + b); g⁻¹: ω → s ω(ε (x − a), δ (y − b)) = s ω(ε x − ε a, δ y − δ b)
    eps, delta = element.epsilon, element.delta
    shift = (-eps * element.shift) % grid_size
    half_periods = -delta * element.half_periods
    return GroupElement(shift=shift, reflect_y=element.reflect_y, half_periods=half_periods)


def random_elements(rng: np.random.Generator, count: int, grid_size: int,
                    forcing_wavenumber: int, *, translations_only: bool = False) -> list[int]:
    """`count` element indices drawn uniformly from the group (or its translations)."""
    high = grid_size if translations_only else group_order(grid_size, forcing_wavenumber)
    return [int(i) for i in rng.integers(0, high, size=count)]

