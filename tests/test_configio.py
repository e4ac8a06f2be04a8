import dataclasses
from typing import Literal

import pytest

from rollflow.configio import from_mapping, load_toml
from rollflow.errors import ConfigError
from rollflow.specs import FlowSpec


@dataclasses.dataclass(frozen=True)
class Inner:
    size: int = 1
    rate: float = 0.5


@dataclasses.dataclass(frozen=True)
class Outer:
    name: str = "a"
    mode: Literal["rolling", "standard"] = "rolling"
    inner: Inner = Inner()
    widths: tuple[int, ...] = (1, 2)


def test_builds_nested_and_coerces_int_to_float():
    cfg = from_mapping(Outer, {"inner": {"size": 3, "rate": 1}, "widths": [4, 5]}, where="[x]")
    assert cfg == Outer(inner=Inner(size=3, rate=1.0), widths=(4, 5))
    assert isinstance(cfg.inner.rate, float)


@pytest.mark.parametrize("data, message", [
    ({"nmae": "b"}, "unknown key 'nmae' in \\[x\\]"),
    ({"inner": {"sise": 2}}, "unknown key 'sise' in \\[x\\].inner"),
    ({"mode": "roling"}, "mode must be one of"),
    ({"inner": {"size": 2.5}}, "size must be an integer"),
    ({"inner": {"rate": "fast"}}, "rate must be a number"),
])
def test_rejects_bad_keys_and_types(data, message):
    with pytest.raises(ConfigError, match=message):
        from_mapping(Outer, data, where="[x]")


def test_spec_validation_becomes_config_error():
    with pytest.raises(ConfigError, match=r"\[flow\]: FlowSpec.viscosity must be > 0"):
        from_mapping(FlowSpec, {"viscosity": -1.0}, where="[flow]")


def test_load_toml_errors(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("a = = 1\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_toml(bad)


def test_merge_mappings_is_deep_and_pure():
    from rollflow.configio import merge_mappings

    base = {"seed": 0, "net": {"base_channels": 32, "channel_multipliers": [1, 2]},
            "optim": {"lr": 1e-3}}
    merged = merge_mappings(base, {"net": {"channel_multipliers": [1]}}, {"optim": {"lr": 2e-3},
                                                                         "extra": {"a": 1}})
    assert merged == {"seed": 0, "net": {"base_channels": 32, "channel_multipliers": [1]},
                      "optim": {"lr": 2e-3}, "extra": {"a": 1}}
    assert base["net"]["channel_multipliers"] == [1, 2] and base["optim"]["lr"] == 1e-3
    merged["net"]["base_channels"] = 8
    assert base["net"]["base_channels"] == 32                  # no shared nested tables


def test_a_directory_is_not_reported_as_missing(tmp_path):
    """Bug: a config path that is a directory was reported as "config file not found"."""
    with pytest.raises(ConfigError, match="is a directory, not a TOML file"):
        load_toml(tmp_path)
    with pytest.raises(ConfigError, match="config file not found"):
        load_toml(tmp_path / "missing.toml")


def test_a_config_that_is_not_utf8_is_one_line(tmp_path):
    """Bug (issue 15): a netCDF file given as the config, or a TOML with a Latin-1
    comment, gave a 23-line UnicodeDecodeError traceback."""
    from rollflow.configio import load_toml
    from rollflow.errors import ConfigError

    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes("# Kármán\nseed = 1\n".encode("latin-1"))
    binary = tmp_path / "store.nc"
    binary.write_bytes(b"\x89HDF\r\n\x1a\n\x00\x00\xff\xfe")
    for path in (latin1, binary):
        with pytest.raises(ConfigError, match="not a UTF-8 text file") as err:
            load_toml(path)
        assert "\n" not in str(err.value)


def test_mapping_differences_names_nested_keys_that_differ():
    from rollflow.configio import mapping_differences

    a = {"net": {"width": 32, "levels": [1, 2]}, "seed": 1, "only_a": 0}
    b = {"net": {"width": 48, "levels": [1, 2]}, "seed": 1, "only_b": 0}
    assert mapping_differences(a, b) == ["net.width", "only_a", "only_b"]
    assert mapping_differences(a, a) == []
