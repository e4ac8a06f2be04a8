"""The vorticity colour map is perceptually uniform, symmetric and inside the sRGB gamut."""

import numpy as np
import pytest
from matplotlib import colormaps
from synthetic import field

from rollflow.analysis import plot_vorticity
from rollflow.analysis.colormaps import VORTICITY_CMAP, diverging_lab, lab_to_srgb


def _srgb_to_lab(rgb):
    """The forward CIE transform, written independently of the module's inverse."""
    rgb = np.asarray(rgb, dtype=float)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    matrix = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                       [0.0193, 0.1192, 0.9505]])
    xyz = linear @ matrix.T / np.array([0.95047, 1.0, 1.08883])
    d = 6 / 29
    f = np.where(xyz > d ** 3, np.cbrt(xyz), xyz / (3 * d ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def _steps(cmap, n=256):
    lab = _srgb_to_lab(cmap(np.linspace(0, 1, n))[:, :3])
    return lab, np.linalg.norm(np.diff(lab, axis=0), axis=-1)


def test_lab_conversion_matches_reference_colours():
    np.testing.assert_allclose(lab_to_srgb([100.0, 0.0, 0.0]), [1, 1, 1], atol=1e-3)
    np.testing.assert_allclose(lab_to_srgb([53.24, 80.09, 67.20]), [1, 0, 0], atol=2e-3)
    np.testing.assert_allclose(lab_to_srgb([32.30, 79.19, -107.86]), [0, 0, 1], atol=2e-3)
    lab = diverging_lab(17)
    np.testing.assert_allclose(_srgb_to_lab(lab_to_srgb(lab)), lab, atol=0.05)


def test_map_is_in_gamut_without_clipping():
    rgb = lab_to_srgb(diverging_lab())
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_steps_are_perceptually_equal_on_each_half():
    """CIE76 ΔE between neighbouring entries, measured on the map's own sRGB colours, is
    constant on each side of the centre; matplotlib's RdBu_r (the old default) is not."""
    lab, steps = _steps(VORTICITY_CMAP)
    halves = steps[:127], steps[128:]
    for half in halves:
        assert half.std() / half.mean() < 0.01
    assert halves[0].mean() == pytest.approx(halves[1].mean(), rel=0.05)
    _, old = _steps(colormaps["RdBu_r"])
    assert old[:127].std() / old[:127].mean() > 0.1


def test_lightness_is_symmetric_and_falls_with_magnitude():
    lab, _ = _steps(VORTICITY_CMAP)
    lightness = lab[:, 0]
    np.testing.assert_allclose(lightness, lightness[::-1], atol=0.2)
    assert np.all(np.diff(lightness[128:]) < 0)
    assert lightness[127] > 95 and lightness[0] < 32


def test_vorticity_plot_uses_the_uniform_map_by_default(rng):
    truth = field(rng.standard_normal((8, 8)), dims=("x", "y"))
    fig = plot_vorticity(truth)
    assert fig.axes[0].images[0].get_cmap().name == VORTICITY_CMAP.name


def test_too_short_a_map_is_refused():
    with pytest.raises(ValueError, match="at least 3"):
        diverging_lab(2)
