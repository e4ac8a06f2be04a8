"""Long-run statistics: the one-point PDF distance against scipy and a shift, the
normalised spectral error of known spectra, and rollouts that are or are not the climate."""

import numpy as np
import pytest
import xarray as xr
from scipy.stats import wasserstein_distance

from rollflow.analysis.climate import (climate_statistics, normalised_spectral_error,
                                       wasserstein1)


def test_wasserstein1_is_exact_for_a_shift_and_matches_scipy():
    """W₁(a, a + c) = |c| (the quantiles shift by c; float rounding only, bound 1e-12). Against
    scipy's exact empirical W₁ the midpoint rule over 1000 quantile steps errs by at most
    ~ (range of the quantile function over one step) / 2 in the tails, < 1e-2 here."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(20_000), 1.3 * rng.standard_normal(30_000) + 0.2
    assert wasserstein1(a, a + 0.3) == pytest.approx(0.3, abs=1e-12)
    assert wasserstein1(a, b) == pytest.approx(wasserstein_distance(a, b), abs=1e-2)


def test_normalised_spectral_error_of_known_spectra():
    k = np.arange(0, 8)
    ref = xr.DataArray((k + 1.0) ** -3.0, dims="k", coords={"k": k})
    assert float(normalised_spectral_error(ref, ref, k_max=6)) == 0.0
    # doubling every shell: |2E − E|/E = 1 on each of the 6 shells 1 … 6
    assert float(normalised_spectral_error(2 * ref, ref, k_max=6)) == pytest.approx(6.0)


def _frames(samples, times, seed):
    n = 16
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((samples, times, n, n))
    coords = {"x": 2 * np.pi * np.arange(n) / n, "y": 2 * np.pi * np.arange(n) / n}
    return xr.DataArray(values, dims=("sample", "time", "x", "y"), coords=coords)


def test_rollouts_of_the_climate_pass_and_broken_ones_do_not():
    """Rollouts drawn from the climate's own distribution are stable, ~98 % inside its
    central band and close in PDF; a blown-up rollout and one with twice the amplitude
    (KE × 4, outside the climate's range) are not stable, and the PDF distance of the
    latter is |2 − 1| · E|ω| = √(2/π) ≈ 0.80 for unit Gaussian ω."""
    climate = _frames(8, 200, seed=0)
    rollout = _frames(2, 300, seed=1).expand_dims(member=1, axis=1)
    broken = rollout.copy()
    broken[1, 0, 5, 0, 0] = np.nan
    stats = climate_statistics(xr.concat([broken, 2 * rollout], dim="member"), climate,
                               save_interval=0.2)
    assert stats.stable.values.tolist() == [[True, False], [False, False]]
    share = stats.kinetic_energy_share_in_band.isel(member=0, sample=0)
    assert 0.95 <= float(share) <= 1.0      # 98 % expected; 300 frames: SE ≈ 0.8 %
    assert float(stats.pdf_distance.isel(member=0, sample=0)) < 0.02
    assert float(stats.pdf_distance.isel(member=1, sample=0)) == pytest.approx(
        np.sqrt(2 / np.pi), abs=0.02)
    assert (stats.spectral_error.isel(member=1) > stats.spectral_error.isel(member=0)).all()


def test_truth_frames_set_the_floor_of_the_per_frame_measures():
    """Issue 16: truth frames score > 0 on the per-frame spectral error (each frame's E(k)
    scatters about the mean); a rollout drawn from the climate scores that floor: its
    median equals the climate's own within 10 % (median of 600 frames: standard error
    ≈ 1.25 σ/√600 ≈ 5 % of σ, and σ is about a third of the mean here: ≈ 2 %), and
    twice the amplitude is far above it. The PDF floor (W₁ of groups of climate
    trajectories as long as the rollout, 300 frames → 2 of 200, against the rest) is small
    and positive, and the rollouts from the same distribution sit near it. Bound: W₁ of two
    empirical samples of sizes n, m scales as √(1/n + 1/m); the rollout (600 frames vs
    1 600) expects 0.83× the floor's (400 vs 1 200), and a W₁ scatters by about its own
    size, so 3× leaves room (1.0× and 2.2× with these seeds)."""
    climate = _frames(8, 200, seed=0)
    rollout = _frames(2, 300, seed=1).expand_dims(member=1, axis=1)
    stats = climate_statistics(xr.concat([rollout, 2 * rollout], dim="member"), climate,
                               save_interval=0.2)
    floor = stats.attrs["climate_spectral_error_median"]
    assert floor > 0.5
    assert float(stats.spectral_error.isel(member=0).median()) == pytest.approx(floor, rel=0.1)
    assert float(stats.spectral_error.isel(member=1).median()) > 3 * floor
    floor = stats.attrs["climate_pdf_distance_median"]
    assert stats.attrs["climate_pdf_floor_trajectories"] == 2 and 0 < floor < 0.02
    assert float(stats.pdf_distance.isel(member=0).max()) < 3 * floor


def test_a_summary_read_once_gives_the_same_statistics():
    """Reading rollouts against `summarise_climate`'s summary is the same arithmetic as
    against the frames (every variable and attr identical), and the summary's climate
    integral time follows the climate's own frame interval, not the rollout's."""
    from rollflow.analysis.climate import summarise_climate

    climate = _frames(8, 200, seed=0)
    rollout = _frames(2, 300, seed=1).expand_dims(member=1, axis=1)
    direct = climate_statistics(rollout, climate, save_interval=0.2)
    summary = summarise_climate(climate, save_interval=0.2, frames=300)
    xr.testing.assert_identical(climate_statistics(rollout, summary, save_interval=0.2), direct)
    slower = summarise_climate(climate, save_interval=0.4, frames=300)
    assert slower.integral_time == pytest.approx(2 * summary.integral_time, rel=1e-12)
