"""Chunked batched integration: frames, progress, determinism, batch independence, caching."""

import jax
import numpy as np
import pytest

from rollflow.errors import DataError, SpecError
from rollflow.solver import advance, downsample, integrate, random_initial_vorticity, simulate
from rollflow.solver.equation import StepConfig
from rollflow.solver.trajectory import make_kernels, chunk_frames


@pytest.fixture(scope="module")
def initial(small_spec):
    return random_initial_vorticity(small_spec, [0, 1])


def test_frames_shape_frame_zero_and_agreement_with_advance(small_spec, initial):
    num = chunk_frames(small_spec) + 3  # crosses a chunk boundary
    frames = integrate(small_spec, initial, num)
    assert frames.shape == (2, num, 16, 16) and frames.dtype == np.float32
    assert frames.flags.writeable
    np.testing.assert_allclose(frames[:, 0], downsample(initial, 16), atol=1e-5)
    later = advance(small_spec, initial, (num - 1) * small_spec.save_interval)
    np.testing.assert_allclose(frames[:, -1], downsample(later, 16), atol=1e-4)
    assert not np.allclose(frames[:, -1], frames[:, 0])


def test_output_size_override_and_nyquist_zeroed_at_full_size(small_spec, initial):
    frames = integrate(small_spec, initial, 2, output_size=32)
    assert frames.shape == (2, 2, 32, 32)
    nyquist = np.fft.rfft2(frames.astype(np.float64))[..., 16, :]
    assert np.abs(nyquist).max() < 1e-3
    with pytest.raises(SpecError):
        integrate(small_spec, initial, 2, output_size=64)


def test_progress_counts_frames(small_spec, initial):
    calls = []
    integrate(small_spec, initial, 14, progress=calls.append)
    assert sum(calls) == 14 and len(calls) == 2
    calls.clear()
    advance(small_spec, initial, 2.4, progress=calls.append)
    assert sum(calls) == 12
    calls.clear()
    simulate(small_spec, [0], progress=calls.append)
    assert sum(calls) == small_spec.warmup_frames + small_spec.num_frames
    calls.clear()
    integrate(small_spec, initial, 1, progress=calls.append)
    assert calls == [1]


def test_simulate_is_deterministic_and_samples_differ(small_spec):
    first = simulate(small_spec, [0, 1])
    assert first.shape == (2, 6, 16, 16)
    np.testing.assert_array_equal(simulate(small_spec, [0, 1]), first)
    assert not np.allclose(first[0], first[1])


def test_batch_composition_does_not_change_a_sample(small_spec):
    spec = small_spec.replace(warmup_time=4.0)  # long enough for chaos to amplify round-off
    pair = simulate(spec, [0, 1])
    np.testing.assert_array_equal(simulate(spec, [1])[0], pair[1])
    np.testing.assert_array_equal(simulate(spec, [5, 1, 0])[1], pair[1])


def test_repeated_calls_do_not_recompile(small_spec, initial):
    integrate(small_spec, initial, 3)
    misses = make_kernels.cache_info().misses
    kernels = make_kernels(StepConfig.from_spec(small_spec), 16, chunk_frames(small_spec))
    compiled = kernels.chunk_fn._cache_size()  # jax's own trace cache (private, jax pinned)
    integrate(small_spec.replace(num_frames=50, seed=1), initial, 14)  # other chunk lengths
    assert make_kernels.cache_info().misses == misses
    assert kernels.chunk_fn._cache_size() == compiled


def test_float64_option_agrees_with_float32_over_a_short_run(small_spec, initial):
    reference = integrate(small_spec, initial, 3)
    with jax.enable_x64(True):
        precise = integrate(small_spec, initial, 3)
    assert precise.dtype == np.float32
    scale = np.abs(reference).max()
    np.testing.assert_allclose(precise, reference, atol=1e-4 * scale)
    assert not np.array_equal(precise[:, -1], reference[:, -1])  # it did run in float64


def test_rejects_bad_inputs(small_spec, initial):
    with pytest.raises(SpecError, match="multiple"):
        advance(small_spec, initial, 0.3)
    with pytest.raises(DataError):
        integrate(small_spec, initial[:, :16], 2)
    with pytest.raises(DataError):
        integrate(small_spec, initial, 2, sample_indices=[1])
    with pytest.raises(SpecError):
        integrate(small_spec, initial, 0)
