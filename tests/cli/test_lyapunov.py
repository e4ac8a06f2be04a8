"""`rollflow lyapunov`: config checks, and a real (tiny) twin run through the solver."""

import json

import numpy as np
import pytest

from rollflow.cli import main
from rollflow.lyapunov import LyapunovConfig, load_config, smooth_perturbation
from rollflow.errors import ConfigError

TINY = """
[flow]
simulation_size = 32
output_size = 32
save_interval = 0.5
warmup_time = 2.0
seed = 1

[lyapunov]
relative_amplitude = 1e-4
num_pairs = 2
duration = 6.0
"""


def test_config_rejects_unknown_keys_and_bad_values(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(TINY.replace("num_pairs = 2", "num_pairs = 2\nnum_pair = 3"))
    with pytest.raises(ConfigError, match="'num_pair'"):
        load_config(path)
    path.write_text(TINY.replace("duration = 6.0", "duration = 6.1"))
    with pytest.raises(ConfigError, match="multiple of save_interval"):
        load_config(path)
    with pytest.raises(ConfigError, match="relative_amplitude"):
        LyapunovConfig(relative_amplitude=0.0)
    path.write_text("[lyapunov]\nnum_pairs = 1\n")
    assert main(["lyapunov", str(path)]) == 2


def test_perturbation_has_exact_relative_norm_and_band():
    rng = np.random.default_rng(0)
    field = rng.standard_normal((3, 32, 32))
    delta = smooth_perturbation(field, 1e-5, 10, rng)
    ratio = np.linalg.norm(delta.reshape(3, -1), axis=1) / np.linalg.norm(field.reshape(3, -1),
                                                                          axis=1)
    np.testing.assert_allclose(ratio, 1e-5, rtol=1e-12)
    k = np.fft.fftfreq(32, 1 / 32)
    outside = np.hypot(k[:, None], k[None, :]) > 10
    assert np.abs(np.fft.fft2(delta)[:, outside]).max() < 1e-12 * np.abs(np.fft.fft2(delta)).max()


def test_tiny_twin_run_end_to_end(tmp_path, capsys):
    pytest.importorskip("jax_cfd", reason="the solver needs jax-cfd")
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = tmp_path / "out"
    assert main(["lyapunov", str(config), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "λ₁ =" in printed and "Lyapunov time" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["simulation_size"] == 32 and len(summary["per_pair"]["growth_rate"]) == 2
    assert f"{summary['lyapunov_exponent_mean']:.4f}" in printed
    curve = np.loadtxt(out / "separation.csv", delimiter=",", skiprows=1)
    assert curve.shape == (13, 3)                               # time + 2 pairs, 6 t.u. / 0.5
    np.testing.assert_allclose(curve[0, 1:], 1e-4, rtol=0.02)   # the imposed perturbation
    assert (curve[-1, 1:] > 10 * curve[0, 1:]).all()            # chaos amplifies it
    assert (out / "separation.png").read_bytes()[:4] == b"\x89PNG"
