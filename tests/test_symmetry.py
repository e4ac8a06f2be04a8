"""The Kolmogorov-flow group as index maps: a group, exact, and a symmetry of the forcing."""

import numpy as np
import pytest
import torch

from rollflow.errors import DataError
from rollflow.symmetry import (IDENTITY, GroupElement, apply_element, check_grid_admits,
                               element_from_index, group_order, index_maps, inverse)

N, KF = 16, 4


def _field(seed=0, shape=(3, N, N)):
    return np.random.default_rng(seed).standard_normal(shape)


def _all():
    return [element_from_index(i, N, KF) for i in range(group_order(N, KF))]


def test_order_and_enumeration():
    elements = _all()
    assert len(elements) == N * 4 * KF == 256
    assert elements[0] == IDENTITY
    assert elements[:N] == [GroupElement(shift=p) for p in range(N)]  # translations first
    maps = {tuple(np.concatenate([*index_maps(g, N, KF)[:2], [index_maps(g, N, KF)[2]]]))
            for g in elements}
    assert len(maps) == len(elements)  # every element is a distinct map
    with pytest.raises(ValueError):
        element_from_index(group_order(N, KF), N, KF)


def test_generators_are_the_documented_maps():
    w = _field()
    i = np.arange(N)
    # S: ω(x, y) → −ω(−x, y + π/k_f); π/k_f is N/(2k_f) nodes
    s = apply_element(w, GroupElement(half_periods=1), KF)
    assert np.array_equal(s, -w[:, (-i) % N][:, :, (i + N // (2 * KF)) % N])
    # R: ω(x, y) → ω(−x, −y)
    r = apply_element(w, GroupElement(reflect_y=True), KF)
    assert np.array_equal(r, w[:, (-i) % N][:, :, (-i) % N])
    # T_a with a = 3 nodes: ω(x, y) → ω(x + a, y) in this parameterisation
    assert np.array_equal(apply_element(w, GroupElement(shift=3), KF), np.roll(w, -3, axis=1))
    # S² is the y-shift by the forcing period 2π/k_f
    assert np.array_equal(apply_element(s, GroupElement(half_periods=1), KF),
                          np.roll(w, -N // KF, axis=2))


def test_closed_under_composition_and_inverse_exact():
    w = _field(1)
    elements = _all()
    images = {apply_element(w, g, KF).tobytes() for g in elements}
    rng = np.random.default_rng(2)
    for a, b in rng.integers(0, len(elements), size=(40, 2)):
        g, h = elements[a], elements[b]
        assert apply_element(apply_element(w, h, KF), g, KF).tobytes() in images
        back = apply_element(apply_element(w, g, KF), inverse(g, N), KF)
        assert np.array_equal(back, w)        # a gather and a sign: exact, no rounding


def test_forcing_is_invariant():
    # f_ω = −k_f cos(k_f y) on the nodes; the maps move nodes onto nodes, so the only
    # difference is cos evaluated at another argument: |Δ| ≤ a few ulp of k_f (≪ 1e-12).
    y = 2 * np.pi * np.arange(N) / N
    forcing = np.broadcast_to(-KF * np.cos(KF * y)[None, :], (N, N))
    for g in _all():
        np.testing.assert_allclose(apply_element(forcing, g, KF), forcing, rtol=0, atol=1e-12)


def test_torch_and_numpy_agree():
    w = _field(3)
    for index in (5, 77, 200):
        g = element_from_index(index, N, KF)
        out = apply_element(torch.from_numpy(w), g, KF)
        assert isinstance(out, torch.Tensor)
        assert np.array_equal(out.numpy(), apply_element(w, g, KF))


def test_grid_that_misses_the_shift_is_one_line():
    with pytest.raises(DataError, match=r"divisible by 2·k_f = 8.*12²") as err:
        check_grid_admits(12, 4)
    assert "\n" not in str(err.value)
    with pytest.raises(DataError):
        apply_element(np.zeros((12, 12)), GroupElement(half_periods=1), 4)
