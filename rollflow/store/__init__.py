"""rollflow.store: the only package that reads or writes zarr and netCDF files.

numpy + FlowSpec → xr.Dataset (`trajectories_to_dataset`), validation against the spec
in the attrs, lazy opening, generic saving (zarr v3 by default, netCDF4 for `.nc`), and
resumable stores for generation (`create_store`, `write_samples`, `completed_samples`; `write_sample_values` and
`mark_completed` for a coordinator and its workers; per-sample physics checks recorded at
write time, `recorded_checks`), and resumable stores of any dataset
led by `sample`, such as forecasts (`create_sample_store`, `write_sample_region`,
`update_attrs`).
"""

from rollflow.store.checks import CHECKS, recorded_checks, write_sample_checks
from rollflow.store.dataset import dataset_attrs, trajectories_to_dataset, trajectory_coords
from rollflow.store.files import open_trajectories, read_spec, save_dataset, store_format
from rollflow.store.resumable import (completed_samples, create_store, mark_completed,
                                      write_sample_values, write_samples)
from rollflow.store.sample_store import create_sample_store, update_attrs, write_sample_region
from rollflow.store.forecasts import forecast_dataset, open_for_scoring, truth_attrs
from rollflow.store.guard import check_not_input
from rollflow.store.lock import writer_lock
from rollflow.store.segments import cut_segments
from rollflow.store.validate import COMPLETED, validate_dataset

__all__ = [
    "trajectories_to_dataset", "trajectory_coords", "dataset_attrs", "validate_dataset",
    "open_trajectories", "read_spec", "save_dataset", "store_format", "create_store",
    "write_samples", "write_sample_values", "mark_completed", "completed_samples", "COMPLETED",
    "create_sample_store", "write_sample_region", "update_attrs", "cut_segments",
    "writer_lock", "check_not_input", "forecast_dataset", "truth_attrs", "open_for_scoring",
    "CHECKS", "recorded_checks", "write_sample_checks",
]
