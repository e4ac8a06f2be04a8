"""rollflow.diffusion: noise schedule, rolling local times, objectives and samplers.

Torch only; knows nothing about fluids or files. The backbone is injected (see `Network`).
"""

from rollflow.diffusion.config import MODES, DiffusionConfig
from rollflow.diffusion.ensemble import expand_members, split_members
from rollflow.diffusion.denoiser import (Denoiser, Network, call_network, network_inputs,
                                        predict_from_v, v_target)
from rollflow.diffusion.distill import DistillationObjective, student_config
from rollflow.diffusion.local_time import LOCAL_TIME_MODES, local_times
from rollflow.diffusion.objective import (
    DeterministicObjective, DiffusionObjective, Objective, Shard, add_noise, frame_weights,
    make_objective, sample_local_times, seen_context,
)
from rollflow.diffusion.rolling import RollingSampler
from rollflow.diffusion.rollout_crps import RolloutCRPSObjective, fair_crps
from rollflow.diffusion.samplers import SAMPLERS, make_sampler
from rollflow.diffusion.sampling import Sampler, SamplerState, SampleStats, ddim_step
from rollflow.diffusion.schedule import CosineSchedule
from rollflow.diffusion.standard import DeterministicSampler, StandardSampler

__all__ = [
    "MODES", "DiffusionConfig", "CosineSchedule", "LOCAL_TIME_MODES", "local_times",
    "Network", "Denoiser", "network_inputs", "call_network", "v_target", "predict_from_v",
    "Objective", "Shard", "DiffusionObjective", "DeterministicObjective", "make_objective",
    "sample_local_times", "add_noise", "frame_weights", "seen_context",
    "Sampler", "SamplerState", "SampleStats", "ddim_step", "make_sampler", "SAMPLERS",
    "RollingSampler", "StandardSampler", "DeterministicSampler",
    "expand_members", "split_members", "DistillationObjective", "student_config",
    "RolloutCRPSObjective", "fair_crps",
]
