"""Rolling sampler end to end against a trajectory oracle: emitted frames, context hand-over,
window shifts and the local times every frame sees during its lifetime."""

import pytest
import torch

import rollflow.diffusion.rolling as rolling_module
from rollflow.diffusion import CosineSchedule, DiffusionConfig, RollingSampler, make_sampler

from .oracle import OffTrajectory, TrajectoryOracle

CASES = [  # (window W, steps per shift K, context C, init_steps)
    (1, 1, 1, None), (1, 3, 2, None), (2, 1, 3, None), (3, 2, 1, None), (4, 3, 2, None),
    (4, 2, 1, 5), (5, 1, 2, 2),
]


def trajectory(batch, length, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, length, 3, 3, generator=gen, dtype=torch.float64)


def run(config, oracle, traj, num_frames, seed=0):
    sampler = make_sampler(config, oracle)
    context = traj[:, :config.num_context]
    out = sampler(context, num_frames, generator=torch.Generator().manual_seed(seed))
    return sampler, out


def reproduces(config, traj, num_frames, offset=0):
    """Whether the rolling sampler with an oracle (shifted by `offset`) reproduces traj."""
    oracle = TrajectoryOracle(traj, config.num_context, offset=offset)
    try:
        _, out = run(config, oracle, traj, num_frames)
    except OffTrajectory:
        return False
    truth = traj[:, config.num_context:config.num_context + num_frames]
    return torch.allclose(out, truth, rtol=0, atol=1e-9)


def expected_taus(config, frame):
    """Local times frame `frame` (0 = first emitted) is given at its network calls, from
    the maps written out by hand: init τ = min(w/W + t, 1) at slot w = frame for
    t = 1, …, 1/I, then rolling τ = (w + t)/W at slots w = frame − 1, …, 0 (born in the
    window) or W − 1, …, 0 (entered fresh) for t = 1, …, 1/K."""
    size, steps, init = config.window_size, config.steps_per_shift, config.num_init_steps
    taus = []
    if frame < size:
        taus += [min(frame / size + (init - k) / init, 1.0) for k in range(init)]
        slots = range(frame - 1, -1, -1)
    else:
        slots = range(size - 1, -1, -1)
    for slot in slots:
        taus += [(slot + (steps - k) / steps) / size for k in range(steps)]
    return torch.tensor(taus, dtype=torch.float64)


def lifetimes_ok(config, oracle, num_frames):
    """Every emitted frame saw exactly the logSNRs λ(expected_taus), in this order."""
    schedule, ctx = CosineSchedule(), config.num_context
    for row in range(oracle.trajectory.shape[0]):
        for frame in range(num_frames):
            seen = torch.tensor(oracle.log[row, ctx + frame], dtype=torch.float64)
            expected = schedule.log_snr(expected_taus(config, frame))
            if seen.shape != expected.shape or not torch.allclose(seen, expected, atol=1e-12):
                return False
    return True


def frames_keep_their_noise(config, oracle, num_frames, eta):
    """Each frame's z travels with it: with η = 0 its implied noise ε never changes; for
    any η, z is bit-identical between calls while its τ is clipped at 1 (init)."""
    lam_min = config.logsnr_min
    for (row, index), states in oracle.states.items():
        if index >= config.num_context + num_frames:
            continue
        lams = oracle.log[row, index]
        for k in range(1, len(states)):
            if lams[k - 1] == lams[k] == lam_min and not torch.equal(states[k - 1][0],
                                                                      states[k][0]):
                return False
            if eta == 0.0 and not torch.allclose(states[k - 1][1], states[k][1], atol=1e-8):
                return False
    return True


@pytest.mark.parametrize("eta", [0.0, 1.0])
@pytest.mark.parametrize("size, steps, ctx, init", CASES)
def test_oracle_reproduces_trajectory(size, steps, ctx, init, eta):
    config = DiffusionConfig(mode="rolling", window_size=size, steps_per_shift=steps,
                             num_context=ctx, init_steps=init, eta=eta)
    num_frames = 2 * size + 3
    traj = trajectory(2, ctx + num_frames + size + 1)
    oracle = TrajectoryOracle(traj, ctx)
    sampler, out = run(config, oracle, traj, num_frames)
    truth = traj[:, ctx:ctx + num_frames]
    assert out.shape == truth.shape
    assert torch.allclose(out, truth, rtol=0, atol=1e-9)
    calls = config.num_init_steps + (num_frames - 1) * steps
    assert sampler.stats.network_calls == oracle.calls == calls
    assert lifetimes_ok(config, oracle, num_frames)
    # η = 0 keeps each frame's noise; η = 1 must inject fresh noise at every step
    # (with W = K = 1 a frame sees one network call only, so there is nothing to compare)
    keeps = frames_keep_their_noise(config, oracle, num_frames, 0.0)
    assert keeps == (eta == 0.0 or size * steps == 1)
    assert frames_keep_their_noise(config, oracle, num_frames, 1.0)


def test_fresh_frames_see_uniform_local_times():
    config = DiffusionConfig(window_size=3, steps_per_shift=2)
    assert torch.allclose(expected_taus(config, 5), torch.arange(6, 0, -1, dtype=torch.float64) / 6)
    assert expected_taus(config, 0).tolist() == [1.0, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6]


def test_off_by_one_oracle_fails():
    config = DiffusionConfig(window_size=3, steps_per_shift=2, num_context=2)
    traj = trajectory(2, 20)
    assert reproduces(config, traj, 8)
    assert not reproduces(config, traj, 8, offset=1)
    assert not reproduces(config, traj, 8, offset=-1)


def test_lifetime_check_catches_a_wrong_rolling_map(monkeypatch):
    config = DiffusionConfig(window_size=3, steps_per_shift=2, num_context=1)
    traj = trajectory(1, 20)
    oracle = TrajectoryOracle(traj, 1)
    run(config, oracle, traj, 8)
    assert lifetimes_ok(config, oracle, 8)
    real = rolling_module.local_times
    for wrong in ("init", "rolling"):                   # one map used for both phases
        monkeypatch.setattr(rolling_module, "local_times",
                            lambda t, w, mode, wrong=wrong: real(t, w, wrong))
        oracle = TrajectoryOracle(traj, 1)
        _, out = run(config, oracle, traj, 8)
        assert torch.allclose(out, traj[:, 1:9])       # x̂ stays exact with an oracle ...
        assert not lifetimes_ok(config, oracle, 8)    # ... but the schedule is wrong


class MisplacingSampler(RollingSampler):
    """Deliberately wrong shift: the fresh frame enters at slot 0 instead of W − 1."""

    def phase(self, denoiser, context, window, mode, num_steps, generator):
        if mode == "rolling":
            window = window.roll(1, dims=1)
        return super().phase(denoiser, context, window, mode, num_steps, generator)


def test_noise_check_catches_a_misplaced_window():
    config = DiffusionConfig(window_size=3, steps_per_shift=2, num_context=1)
    traj = trajectory(1, 20)
    oracle = TrajectoryOracle(traj, 1)
    out = MisplacingSampler(oracle, config)(traj[:, :1], 8,
                                            generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out, traj[:, 1:9])           # emitted frames still exact ...
    assert not frames_keep_their_noise(config, oracle, 8, eta=0.0)   # ... z got lost


def test_longer_run_extends_shorter_run():
    config = DiffusionConfig(window_size=3, steps_per_shift=2, num_context=2, eta=1.0)
    net = lambda x, log_snr, is_context: 0.1 * x        # noqa: E731
    context = torch.randn(2, 2, 4, 4)
    short = RollingSampler(net, config)(context, 4, generator=torch.Generator().manual_seed(1))
    long = RollingSampler(net, config)(context, 7, generator=torch.Generator().manual_seed(1))
    assert torch.equal(long[:, :4], short)


def test_progress_reports_every_emitted_frame():
    seen = []
    sampler = make_sampler(DiffusionConfig(window_size=2, steps_per_shift=1),
                           lambda x, log_snr, is_context: torch.zeros_like(x))
    sampler(torch.zeros(1, 2, 4, 4), 5, progress=seen.append)
    assert seen == [1, 2, 3, 4, 5]
    assert sampler.stats.emitted_frames == 5
    assert sampler.stats.calls_per_frame == (2 + 4 * 1) / 5
