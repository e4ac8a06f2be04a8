"""rollflow.generate: ground-truth stores from the solver, resumable, serial
(`rollflow.generate.serial`) or on a Dask cluster (`rollflow.generate.cluster`, imported
on demand: it needs `distributed`).

`generate_store` allocates the store (or reopens one with the same spec), skips samples
already flagged complete, simulates the rest in batches and writes each batch as soon as
it is done; the TOML side is `load_simulation_config`.
"""

from rollflow.generate.serial import (SECONDS_PER_STEP_128, GenerationConfig, SimulateFn,
                                      SimulationConfig, cost_line, default_simulate,
                                      duration_text, estimate_seconds, generate_store,
                                      load_simulation_config, open_pending, pending_batches,
                                      progress_bar, simulation_toml)

__all__ = ["estimate_seconds", "cost_line", "duration_text", "SECONDS_PER_STEP_128",
           "GenerationConfig", "SimulationConfig", "load_simulation_config",
           "pending_batches", "open_pending", "generate_store", "SimulateFn", "progress_bar",
           "default_simulate", "simulation_toml"]
