"""Progressive distillation of the rolling sampler: the one-step target is exact algebra,
the student's time grid halves the teacher's, and an exact teacher teaches an exact student."""

import pytest
import torch

from rollflow.diffusion import (CosineSchedule, DiffusionConfig, DistillationObjective,
                                ddim_step, local_times, student_config)
from rollflow.diffusion.distill import single_step_target, student_times

from .oracle import TrajectoryOracle

TEACHER = DiffusionConfig(mode="rolling", num_context=2, window_size=3, steps_per_shift=4,
                          init_probability=0.4)


def test_student_config_halves_k_and_init_and_fixes_eta():
    student = student_config(TEACHER.replace(eta=0.5))
    assert (student.steps_per_shift, student.num_init_steps) == (2, 6)
    assert student.eta == 0.0 and student.distilled_from == 4
    again = student_config(student)
    assert (again.steps_per_shift, again.num_init_steps, again.distilled_from) == (1, 3, 2)
    with pytest.raises(ValueError, match="must be even"):
        student_config(again)
    with pytest.raises(ValueError, match="only rolling"):
        student_config(TEACHER.replace(mode="standard"))
    with pytest.raises(ValueError, match="distilled_from"):
        DiffusionConfig(steps_per_shift=2, distilled_from=8)


def test_one_step_target_lands_where_two_steps_did():
    """DDIM from z_t with x̂ = x̃ reproduces z_s (float64: equal to ~1e-12 of the values,
    the division by α_s − σ_s α_t/σ_t ≥ 1e-3 here amplifying eps64 = 1.1e-16)."""
    schedule = CosineSchedule()
    gen = torch.Generator().manual_seed(0)
    tau_t = torch.rand(5, 3, generator=gen, dtype=torch.float64) * 0.9 + 0.1
    tau_s = tau_t - torch.rand(5, 3, generator=gen, dtype=torch.float64) * 0.1
    z_t, z_s = (torch.randn(5, 3, 4, 4, generator=gen, dtype=torch.float64) for _ in "ts")
    lam_t, lam_s = schedule.log_snr(tau_t), schedule.log_snr(tau_s)
    x = single_step_target(z_t, z_s, lam_t, lam_s, tau_s, schedule)
    alpha_t, sigma_t = schedule.alpha_sigma_from_log_snr(lam_t)
    eps = (z_t - alpha_t[..., None, None] * x) / sigma_t[..., None, None]
    torch.testing.assert_close(ddim_step(z_t, x, eps, log_snr_t=lam_t, log_snr_s=lam_s,
                                         eta=0.0), z_s, rtol=0, atol=1e-10)
    # an emitted slot (τ_s = 0) takes z_s itself, an untouched one (λ_s = λ_t) stays finite
    tau_s[0, 0], lam_s[1, 1] = 0.0, lam_t[1, 1]
    x = single_step_target(z_t, z_s, lam_t, lam_s, tau_s, schedule)
    assert torch.equal(x[0, 0], z_s[0, 0]) and torch.isfinite(x).all()


def test_student_times_halve_the_grid_per_phase():
    student = student_config(TEACHER)
    tau_t, tau_m, tau_s, init = student_times(4000, student, device=torch.device("cpu"),
                                              dtype=torch.float64,
                                              generator=torch.Generator().manual_seed(1))
    assert 0.3 < init.double().mean() < 0.5
    roll = ~init
    w = student.window_size
    # rolling: every slot moves by 1/(W·K_s) per student step, the teacher's m halfway
    torch.testing.assert_close(tau_t[roll] - tau_s[roll],
                               torch.full_like(tau_t[roll], 1 / (w * 2)))
    torch.testing.assert_close(tau_m[roll], (tau_t[roll] + tau_s[roll]) / 2)
    # the global times are the student's grid: slot 0 sits at j/(W·K_s)
    steps = (tau_s[roll][:, 0] * w * 2).round()
    assert set(steps.tolist()) == {0.0, 1.0}
    # init: the init map at t = (j + 1)/n, n = W·K_s init steps
    t = (tau_t[init][:, 0]).unique()
    torch.testing.assert_close(t, torch.arange(1, 7, dtype=torch.float64) / 6)
    torch.testing.assert_close(tau_t[init], local_times(tau_t[init][:, 0], w, "init"))


def _trajectory(batch, frames, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, frames, 5, 5, generator=gen, dtype=torch.float64)


def test_an_exact_teacher_teaches_an_exact_student():
    """The oracle knows the true frames, so every DDIM update it makes is exact, and one
    update over [s, t] equals two: the oracle student's loss is round-off (float64; ṽ
    divides by σ_t ≥ 5e-4, so ~1e-16·|z|/σ_t² ≈ 1e-9 at worst), while a student that
    predicts the wrong frames is far off."""
    student = student_config(TEACHER)
    frames = _trajectory(6, student.num_context + student.window_size)
    objective = DistillationObjective(student, TrajectoryOracle(frames, student.num_context))
    gen = torch.Generator().manual_seed(2)
    loss, stats = objective.loss(TrajectoryOracle(frames, student.num_context), frames,
                                 generator=gen)
    assert float(loss) < 1e-9 and 0 < stats["fraction_weighted"] <= 1
    longer = _trajectory(6, student.num_context + student.window_size + 1)
    wrong = TrajectoryOracle(longer, student.num_context, offset=1)
    teacher = TrajectoryOracle(longer, student.num_context)
    bad, _ = DistillationObjective(student, teacher).loss(
        wrong, longer[:, :-1], generator=torch.Generator().manual_seed(2))
    assert float(bad) > 0.1


def test_only_the_student_gets_gradients():
    student = student_config(TEACHER)
    frames = _trajectory(4, student.num_context + student.window_size).float()
    teacher = torch.nn.Conv2d(5, 5, 3, padding=1)
    net = torch.nn.Conv2d(5, 5, 3, padding=1)
    objective = DistillationObjective(
        student, lambda x, lam, ctx: teacher(x))
    loss, _ = objective.loss(lambda x, lam, ctx: net(x), frames,
                             generator=torch.Generator().manual_seed(0))
    loss.backward()
    assert torch.isfinite(loss) and net.weight.grad is not None
    assert teacher.weight.grad is None
    with pytest.raises(ValueError, match="student"):
        DistillationObjective(TEACHER, teacher)


def test_the_teacher_runs_outside_a_bf16_autocast():
    """Under the bf16 autocast of `runtime.bf16` a convolution returns bf16; the teacher's
    calls must not (its targets would carry 2⁻⁸ rounding), while the student's still do."""
    student = student_config(TEACHER)
    frames = _trajectory(4, student.num_context + student.window_size).float()
    teacher = torch.nn.Conv2d(5, 5, 3, padding=1)
    net = torch.nn.Conv2d(5, 5, 3, padding=1)
    seen = {"teacher": set(), "student": set()}
    teacher.register_forward_hook(lambda m, i, out: seen["teacher"].add(out.dtype))
    net.register_forward_hook(lambda m, i, out: seen["student"].add(out.dtype))
    objective = DistillationObjective(student, lambda x, lam, ctx: teacher(x))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, _ = objective.loss(lambda x, lam, ctx: net(x), frames,
                                 generator=torch.Generator().manual_seed(0))
    assert seen == {"teacher": {torch.float32}, "student": {torch.bfloat16}}
    assert loss.dtype == torch.float32 and torch.isfinite(loss)


def test_an_exact_student_stays_exact_on_its_own_context_frames():
    """p = 1: the student's own estimate of the last context frame is the true frame when
    the student is exact (the oracle; x̂ = α z − σ v to ~1e-15 in float64, well inside the
    oracle's 1e-9 match of a context to the trajectory), so teacher and student see a
    true context and the loss is round-off as in `test_an_exact_teacher_teaches_an_exact_
    student`; the examples are one frame longer, and the student is called once more,
    first, without gradient."""
    student = student_config(TEACHER, own_context=1.0)
    frames = _trajectory(6, student.frames_per_example)
    assert frames.shape[1] == student.num_context + student.window_size + 1
    oracle = TrajectoryOracle(frames, student.num_context)
    grads = []

    def network(x, log_snr, is_context):
        grads.append(torch.is_grad_enabled())
        return oracle(x, log_snr, is_context)

    objective = DistillationObjective(student, TrajectoryOracle(frames, student.num_context))
    loss, _ = objective.loss(network, frames, generator=torch.Generator().manual_seed(2))
    assert float(loss) < 1e-9 and grads == [False, True]
    with pytest.raises(ValueError, match=r"num_context \+ window_size \+ 1"):
        objective.loss(network, frames[:, 1:])


@pytest.mark.parametrize("own_context", [0.0, 0.5])
def test_shards_of_a_distillation_batch_sum_to_its_loss(own_context):
    """Two processes each taking half a batch reproduce one process (the own-context
    draws, the student times and the noise are drawn for the whole batch). float64, so the
    sums agree to ~1e-15 of the loss; 1e-12 leaves room for the order of the additions."""
    from rollflow.diffusion import Shard

    student = student_config(TEACHER, own_context=own_context)
    frames = _trajectory(6, student.frames_per_example)
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(5, 5, 3, padding=1, padding_mode="circular").double()
    teacher = torch.nn.Conv2d(5, 5, 3, padding=1, padding_mode="circular").double()
    objective = DistillationObjective(student, lambda x, lam, ctx: teacher(x))

    def part(rows, shard):
        loss, _ = objective.loss(lambda x, lam, ctx: conv(x), frames[rows],
                                 generator=torch.Generator().manual_seed(5), shard=shard)
        return loss.detach()

    whole = part(slice(None), None)
    halves = [part(slice(a, b), Shard(a, b, 6)) for a, b in ((0, 2), (2, 6))]
    torch.testing.assert_close(halves[0] + halves[1], whole, rtol=1e-12, atol=1e-12)
