"""DiffusionConfig validation and TOML construction."""

import pytest

from rollflow.configio import from_mapping, to_mapping
from rollflow.diffusion import CosineSchedule, DiffusionConfig
from rollflow.errors import ConfigError


def test_defaults_resolve():
    config = DiffusionConfig(window_size=3, steps_per_shift=5)
    assert config.num_init_steps == 15 and config.num_standard_steps == 15
    assert config.frames_per_example == config.num_context + 3
    assert config.schedule == CosineSchedule(-15.0, 15.0, 0.0)
    assert DiffusionConfig(init_steps=7, standard_steps=9).num_init_steps == 7


@pytest.mark.parametrize("changes, message", [
    ({"mode": "diffusion"}, "mode must be one of"),
    ({"window_size": 0}, "window_size must be an integer ≥ 1"),
    ({"num_context": 0}, "num_context must be an integer ≥ 1"),
    ({"steps_per_shift": 2.0}, "steps_per_shift must be an integer"),
    ({"init_steps": 0}, "init_steps must be an integer ≥ 1 or omitted"),
    ({"eta": 1.5}, r"eta must be in \[0, 1\]"),
    ({"eta": -0.1}, r"eta must be in \[0, 1\]"),
    ({"init_probability": 2.0}, r"init_probability must be in \[0, 1\]"),
    ({"logsnr_min": 20.0}, "logsnr_min must be < logsnr_max"),
    ({"logsnr_shift": float("inf")}, "logsnr_shift must be a finite number"),
])
def test_bad_values_raise_config_error(changes, message):
    with pytest.raises(ConfigError, match=message):
        DiffusionConfig(**changes)
    assert issubclass(ConfigError, ValueError)


def test_from_mapping_round_trip_and_unknown_key():
    config = from_mapping(DiffusionConfig, {"mode": "standard", "window_size": 2, "eta": 1},
                          where="[diffusion]")
    assert config.mode == "standard" and config.eta == 1.0
    data = {k: v for k, v in to_mapping(config).items() if v is not None}
    assert from_mapping(DiffusionConfig, data, where="[diffusion]") == config
    with pytest.raises(ConfigError, match="unknown key 'windowsize'"):
        from_mapping(DiffusionConfig, {"windowsize": 2}, where="[diffusion]")
    with pytest.raises(ConfigError, match=r"eta must be in"):
        from_mapping(DiffusionConfig, {"eta": 3.0}, where="[diffusion]")
