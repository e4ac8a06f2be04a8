"""Ensembles as batch: expand and split are inverse layouts."""

import pytest
import torch

from rollflow.diffusion import expand_members, split_members


def test_expand_then_split_round_trip_and_layout():
    context = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    expanded = expand_members(context, 4)
    assert expanded.shape == (8, 3, 2, 2)
    assert torch.equal(expanded[5], context[1])            # row b·M + m is sample b
    split = split_members(expanded, 4)
    assert split.shape == (2, 4, 3, 2, 2)
    for member in range(4):
        assert torch.equal(split[:, member], context)


def test_bad_member_counts():
    with pytest.raises(ValueError, match="num_members"):
        expand_members(torch.zeros(2, 1, 2, 2), 0)
    with pytest.raises(ValueError, match="not a multiple"):
        split_members(torch.zeros(5, 1, 2, 2), 2)
