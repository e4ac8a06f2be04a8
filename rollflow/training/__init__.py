"""rollflow.training: window dataset over a store, training loop (EMA, checkpoints, resume).

Imports diffusion, nets, store and specs; reads stores only through rollflow.store.
"""

from rollflow.training.checkpoint import (Checkpoint, latest_checkpoint, latest_progress,
                                          load_checkpoint, save_checkpoint)
from rollflow.training.config import (DataConfig, DistillConfig, InitConfig, IntervalsConfig,
                                      OptimConfig, RuntimeConfig, TrainConfig, config_hash,
                                      load_train_config, train_config_from_mapping)
from rollflow.training.data import (NormStats, StepBatchSampler, WindowDataset,
                                    compute_norm_stats, split_samples)
from rollflow.training.loop import learning_rate, train
from rollflow.training.metrics import MetricsLog, plot_loss_curve
from rollflow.training.distill import distillation_config, load_teacher
from rollflow.training.probe import (StepCost, interleaved_step_costs, step_cost,
                                     steps_for_budget)
from rollflow.training.progress import learning_curve, run_training, train_until
from rollflow.training.trained import TrainedModel, load_trained

__all__ = [
    "TrainConfig", "OptimConfig", "IntervalsConfig", "DataConfig", "RuntimeConfig", "InitConfig",
    "load_train_config", "train_config_from_mapping", "config_hash",
    "NormStats", "WindowDataset", "StepBatchSampler", "compute_norm_stats", "split_samples",
    "train", "learning_rate", "Checkpoint", "save_checkpoint", "load_checkpoint",
    "latest_checkpoint", "latest_progress", "train_until", "learning_curve", "MetricsLog",
    "plot_loss_curve", "TrainedModel", "load_trained", "StepCost", "step_cost",
    "steps_for_budget", "interleaved_step_costs", "run_training", "DistillConfig",
    "distillation_config", "load_teacher",
]
