"""rollflow.forecast: ensemble rollouts of a trained model → (sample, member, time, x, y)."""

from rollflow.forecast.rollout import ForecastModel, ForecastSettings, context_indices, forecast

__all__ = ["ForecastModel", "ForecastSettings", "forecast", "context_indices"]
