"""rollflow.forecast: ensemble rollouts of a trained model → (sample, member, time, x, y),
in memory (`forecast`) or batch by batch into a resumable store (`forecast_to_store`)."""

from rollflow.forecast.chunked import (ForecastRun, forecast_to_store, forecast_with_progress,
                                       pending_batch_starts)
from rollflow.forecast.estimate import calls_per_frame, default_init_index, estimate_seconds
from rollflow.forecast.fingerprint import weights_fingerprint
from rollflow.forecast.rollout import ForecastModel, ForecastSettings, context_indices, forecast
from rollflow.forecast.skill import (frames_for_horizon, rollout_statistics,
                                     score_forecast_store, scored_forecast,
                                     settings_from_plan)
from rollflow.forecast.speed import InferenceOptions, native_bf16

__all__ = ["ForecastModel", "ForecastSettings", "forecast", "context_indices",
           "forecast_to_store", "forecast_with_progress", "ForecastRun", "pending_batch_starts",
           "estimate_seconds", "default_init_index", "calls_per_frame", "InferenceOptions", "native_bf16",
           "scored_forecast", "score_forecast_store", "frames_for_horizon",
           "rollout_statistics", "settings_from_plan", "weights_fingerprint"]
