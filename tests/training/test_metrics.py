"""The loss-curve plot: quiet on an empty log (no warning through the progress bar)."""

import warnings

from rollflow.training import plot_loss_curve


def test_empty_log_plots_without_warnings(tmp_path):
    """Bug: a checkpoint before the first log line printed matplotlib's "No artists with
    labels found to put in legend" through the training progress bar."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_loss_curve([], tmp_path / "empty.png")
        plot_loss_curve([{"kind": "train", "step": 2, "loss": 0.5},
                         {"kind": "validation", "step": 2, "val_loss": 0.4}],
                        tmp_path / "loss.png")
    assert (tmp_path / "empty.png").stat().st_size > 1000
    assert (tmp_path / "loss.png").stat().st_size > (tmp_path / "empty.png").stat().st_size
