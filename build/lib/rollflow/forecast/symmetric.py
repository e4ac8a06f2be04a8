"""Test-time symmetry ensembles: member m forecasts g_m·ω and maps the result back.

Kolmogorov flow is invariant under its symmetry group (`rollflow.symmetry`), so a
forecast of the transformed state g·ω, mapped back with g⁻¹, is as valid a forecast of ω
as the plain one. A model that is not exactly equivariant gives a different answer for
each g: an ensemble at no training cost (members still cost one forecast each). Member 0
uses the identity; the others distinct elements drawn from the seed. For a deterministic
model it is the only source of spread; for a diffusion model it adds to the noise's.
"""

from __future__ import annotations

import numpy as np
import torch

from rollflow.symmetry import (IDENTITY, GroupElement, apply_element, element_from_index,
                               group_order, inverse)

__all__ = ["member_elements", "map_members"]


def member_elements(num_members: int, grid_size: int, forcing_wavenumber: int,
                    seed: int) -> list[GroupElement]:
    """The identity, then num_members − 1 distinct other elements drawn from `seed`
    (DataError in one line if the grid does not admit the group)."""
    order = group_order(grid_size, forcing_wavenumber)
    if num_members > order:
        raise ValueError(f"{num_members} members need {num_members} distinct group elements; "
                         f"the group has {order}")
    rng = np.random.default_rng([seed, 14])
    others = rng.choice(np.arange(1, order), size=num_members - 1, replace=False)
    return [IDENTITY] + [element_from_index(int(i), grid_size, forcing_wavenumber)
                         for i in others]


def map_members(rows: torch.Tensor, elements: list[GroupElement], forcing_wavenumber: int, *,
                back: bool = False) -> torch.Tensor:
    """Apply element m (or its inverse, `back`) to every row b·M + m of (B·M, …, x, y)."""
    size = rows.shape[-1]
    count = len(elements)
    return torch.stack([apply_element(row, inverse(elements[i % count], size) if back
                                      else elements[i % count], forcing_wavenumber)
                        for i, row in enumerate(rows)])
