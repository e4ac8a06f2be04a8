"""Rolling and init local-time maps: exact tables for W = 4 and the hand-over identities."""

import pytest
import torch

from rollflow.diffusion import local_times

W = 4
T = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0], dtype=torch.float64)

# τ_w(t) = (w + t)/W; rows are t = 0, 0.25, 0.5, 0.75, 1, columns w = 0..3
ROLLING_TABLE = [
    [0.0, 0.25, 0.5, 0.75],
    [0.0625, 0.3125, 0.5625, 0.8125],
    [0.125, 0.375, 0.625, 0.875],
    [0.1875, 0.4375, 0.6875, 0.9375],
    [0.25, 0.5, 0.75, 1.0],
]
# τ_w(t) = clip(w/W + t, 0, 1)
INIT_TABLE = [
    [0.0, 0.25, 0.5, 0.75],
    [0.25, 0.5, 0.75, 1.0],
    [0.5, 0.75, 1.0, 1.0],
    [0.75, 1.0, 1.0, 1.0],
    [1.0, 1.0, 1.0, 1.0],
]


@pytest.mark.parametrize("mode, table", [("rolling", ROLLING_TABLE), ("init", INIT_TABLE)])
def test_tables_for_window_four(mode, table):
    tau = local_times(T, W, mode)
    assert tau.shape == (5, W)
    assert torch.equal(tau, torch.tensor(table, dtype=torch.float64))


@pytest.mark.parametrize("window", [1, 2, 3, 5, 8])
def test_init_starts_all_ones_and_ends_in_rolling_state(window):
    ones = local_times(torch.tensor(1.0), window, "init")
    assert torch.equal(ones, torch.ones(window))
    end = local_times(torch.tensor(0.0), window, "init")
    assert torch.equal(end, torch.arange(window) / window)
    assert torch.equal(end, local_times(torch.tensor(0.0), window, "rolling"))


@pytest.mark.parametrize("window", [1, 2, 3, 5, 8])
def test_shift_hands_over_local_time_one_slot_down(window):
    start = local_times(torch.tensor(1.0), window, "rolling")   # after the shift
    end = local_times(torch.tensor(0.0), window, "rolling")     # before the shift
    assert torch.equal(start[:-1], end[1:])                     # slot w gets slot w+1's τ
    assert start[-1] == 1.0 and end[0] == 0.0                   # fresh noise in, clean out


def test_shape_and_dtype_follow_t():
    t = torch.rand(2, 3)
    tau = local_times(t, 5, "rolling")
    assert tau.shape == (2, 3, 5) and tau.dtype == t.dtype
    assert local_times(0.5, 2, "init").shape == (2,)


def test_bad_arguments():
    with pytest.raises(ValueError, match="window_size"):
        local_times(torch.tensor(0.5), 0, "rolling")
    with pytest.raises(ValueError, match="unknown local-time mode 'roll'"):
        local_times(torch.tensor(0.5), 4, "roll")
