"""A perceptually uniform diverging colour map for vorticity, built in CIELAB.

Equal steps in |ω| should look like equal steps in colour. Each half of the map is a
straight line in CIELAB (D65) from a near-white centre (L* = 97, no chroma) to a dark,
saturated end (L* = 30, chroma 60): negative ω blue (hue 292°), positive ω red (hue 40°). Along a
straight line the CIE76 colour difference ΔE between neighbouring entries is constant, so
the map is uniform on each side, lightness falls monotonically with |ω| and is the same for
±ω (it reads in greyscale), and every entry lies inside the sRGB gamut without clipping
(checked in tests/analysis/test_colormaps.py). No dependency beyond numpy and matplotlib;
cmocean's `balance` has the same design aims.

Formulas: CIE 1976 L*a*b* → XYZ (D65 white) → linear sRGB (IEC 61966-2-1 matrix) → sRGB
transfer curve.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap

__all__ = ["VORTICITY_CMAP", "diverging_lab", "lab_to_srgb"]

_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
_XYZ_TO_LINEAR_RGB = np.array([[3.2406, -1.5372, -0.4986],
                               [-0.9689, 1.8758, 0.0415],
                               [0.0557, -0.2040, 1.0570]])
_DELTA = 6.0 / 29.0


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (..., 3) [L* in 0–100] → sRGB (..., 3) in [0, 1] if in gamut (not clipped)."""
    lab = np.asarray(lab, dtype=float)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    xyz = np.where(f > _DELTA, f ** 3, 3.0 * _DELTA ** 2 * (f - 4.0 / 29.0)) * _WHITE_D65
    linear = xyz @ _XYZ_TO_LINEAR_RGB.T
    return np.where(linear <= 0.0031308, 12.92 * linear,
                    1.055 * np.abs(linear) ** (1.0 / 2.4) - 0.055)


def diverging_lab(n: int = 256, *, centre_lightness: float = 97.0,
                  end_lightness: float = 30.0, end_chroma: float = 60.0,
                  hues_deg: tuple[float, float] = (292.0, 40.0)) -> np.ndarray:
    """(n, 3) CIELAB entries: two straight lines from (centre_lightness, 0, 0) to the ends
    (end_lightness, chroma end_chroma) at hues_deg = (negative end, positive end)."""
    if n < 3:
        raise ValueError(f"a diverging map needs at least 3 entries, got {n}")
    s = np.linspace(-1.0, 1.0, n)
    hue = np.deg2rad(np.where(s < 0, hues_deg[0], hues_deg[1]))
    r = np.abs(s)
    lightness = centre_lightness + (end_lightness - centre_lightness) * r
    chroma = end_chroma * r
    return np.stack([lightness, chroma * np.cos(hue), chroma * np.sin(hue)], axis=-1)


VORTICITY_CMAP = ListedColormap(lab_to_srgb(diverging_lab()).clip(0.0, 1.0),
                                name="rollflow_vorticity")
