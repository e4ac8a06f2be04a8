"""TOML at the edge: load a file and build frozen dataclasses, rejecting unknown keys.

Stdlib only. Every config dataclass in rollflow is built through `from_mapping`, so a
typo in a config file is an error that names the key, the section and the allowed keys.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from rollflow.errors import ConfigError, RollflowError

__all__ = ["load_toml", "from_mapping", "to_mapping", "check_keys", "merge_mappings",
           "mapping_differences"]

T = TypeVar("T")


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; a missing or malformed file raises ConfigError."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"config path is a directory, not a TOML file: {path}")
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not a UTF-8 text file (byte {err.start} cannot be "
                          f"decoded); a TOML config must be UTF-8") from None


def check_keys(data: Mapping[str, Any], allowed: typing.Iterable[str], where: str) -> None:
    """Raise ConfigError if `data` has a key outside `allowed`."""
    allowed = list(allowed)
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown key{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(map(repr, unknown))} in {where}; "
                          f"allowed: {', '.join(allowed)}")


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where} must be a table")
        return from_mapping(hint, value, where=where)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin is typing.Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise ConfigError(f"{where} must be one of {', '.join(map(repr, choices))} "
                              f"(got {value!r})")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list (got {value!r})")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        return tuple(_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false (got {value!r})")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer (got {value!r})")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number (got {value!r})")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string (got {value!r})")
        return value
    return value


def from_mapping(cls: type[T], data: Mapping[str, Any], *, where: str) -> T:
    """Build dataclass `cls` from a mapping; unknown keys and wrong types raise ConfigError.

    Nested dataclass fields are built from nested tables. Validation errors raised by the
    dataclass itself (`__post_init__`) are re-raised as ConfigError prefixed with `where`.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    check_keys(data, fields, where)
    hints = typing.get_type_hints(cls)
    kwargs = {name: _coerce(value, hints[name], f"{where}.{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except RollflowError as err:
        raise ConfigError(f"{where}: {err}") from None
    except TypeError as err:  # missing required field
        raise ConfigError(f"{where}: {err}") from None


def to_mapping(obj: Any) -> dict[str, Any]:
    """Dataclass → plain dict (tuples become lists) for TOML/JSON output."""
    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v
    return {k: plain(v) for k, v in dataclasses.asdict(obj).items()}


def mapping_differences(a: Mapping[str, Any], b: Mapping[str, Any],
                        prefix: str = "") -> list[str]:
    """Dotted names of the keys whose values differ between two nested tables, sorted."""
    out = []
    for key in sorted(set(a) | set(b)):
        if isinstance(a.get(key), Mapping) and isinstance(b.get(key), Mapping):
            out += mapping_differences(a[key], b[key], f"{prefix}{key}.")
        elif a.get(key) != b.get(key):
            out.append(f"{prefix}{key}")
    return out


def merge_mappings(base: Mapping[str, Any], *overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of nested tables: later mappings win key by key; tables merge, values
    (including lists) are replaced. The inputs are not modified."""
    merged: dict[str, Any] = {k: (merge_mappings(v) if isinstance(v, Mapping) else v)
                              for k, v in base.items()}
    for override in overrides:
        for key, value in override.items():
            if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
                merged[key] = merge_mappings(merged[key], value)
            else:
                merged[key] = merge_mappings(value) if isinstance(value, Mapping) else value
    return merged
