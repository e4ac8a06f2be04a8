"""Small checks shared by CLI commands that combine a trained model with a store."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import xarray as xr

from rollflow.conventions import X
from rollflow.errors import DataError

__all__ = ["check_model_grid", "default_init_index", "int_at_least", "float_above",
           "select_samples"]


def check_model_grid(model: Any, truth: xr.Dataset, where: str) -> None:
    """DataError if the store's grid differs from the one the model was trained on."""
    size = truth.sizes[X]
    if model.grid_size and model.grid_size != size:
        raise DataError(f"{where} has a {size}×{size} grid but the model was trained on "
                        f"{model.grid_size}×{model.grid_size}")


def select_samples(vorticity: xr.DataArray, samples: list[int] | None,
                   where: str) -> xr.DataArray:
    """The requested sample indices (all if None); DataError naming the missing ones."""
    from rollflow.conventions import SAMPLE

    if not samples:
        return vorticity
    have = vorticity[SAMPLE].values.tolist()
    missing = sorted(set(samples) - set(have))
    if missing:
        raise DataError(f"{where} has no sample(s) {missing} (it has {len(have)}: "
                        f"{have[0]}…{have[-1]})")
    return vorticity.sel({SAMPLE: samples})


def default_init_index(model: Any) -> int:
    """First time index with enough context frames behind it (`rollflow.forecast`)."""
    from rollflow.forecast import default_init_index as first_index

    return first_index(model)


def int_at_least(minimum: int) -> Callable[[str], int]:
    """argparse `type=` for integers ≥ `minimum` (a usage error names the bound)."""
    def parse_fn(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be ≥ {minimum} (got {value})")
        return value
    return parse_fn


def float_above(minimum: float, *, or_equal: bool = False) -> Callable[[str], float]:
    """argparse `type=` for finite numbers > `minimum` (≥ with `or_equal`; a usage error
    names the bound)."""
    def parse_fn(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (value >= minimum if or_equal else value > minimum) or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be a finite number {'≥' if or_equal else '>'}"
                                             f" {minimum} (got {text})")
        return value
    return parse_fn
