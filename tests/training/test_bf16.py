"""runtime.bf16: training steps under bf16 autocast where the CPU has native bf16; float32
(bit for bit the plain run) with a one-line notice where it has not."""

import pytest
import torch

from rollflow.errors import ConfigError
from rollflow.training import RuntimeConfig, train
from rollflow.training import state as state_module

from training_fixtures import tiny_config


def _bf16_config(total=3):
    config = tiny_config("rolling", total_steps=total)
    return config.replace(runtime=RuntimeConfig(device="cpu", num_threads=1, bf16=True))


def _conv_dtypes(records, network_of):
    """Output dtypes of the network's first convolution during the run's steps."""
    first = next(records)
    conv = next(m for m in network_of().modules() if isinstance(m, torch.nn.Conv2d))
    seen = set()
    conv.register_forward_hook(lambda module, args, out: seen.add(out.dtype))
    steps = [r for r in records if r["kind"] == "step"]
    return first, seen, steps


def _run(config, store, run_dir, monkeypatch):
    built = {}
    original = state_module._build_model

    def spy(*args, **kwargs):
        built["model"] = original(*args, **kwargs)
        return built["model"]

    monkeypatch.setattr(state_module, "_build_model", spy)
    return _conv_dtypes(train(config, store, run_dir), lambda: built["model"][0]) + (built,)


def test_native_bf16_runs_the_steps_in_bf16_and_keeps_float32_weights(store, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setattr(state_module, "bf16_available", lambda device: True)
    first, seen, steps, built = _run(_bf16_config(), store, tmp_path / "run", monkeypatch)
    assert first["device"] == "cpu, bf16 autocast" and first["notice"] is None
    assert seen == {torch.bfloat16}
    assert len(steps) == 3 and all(torch.isfinite(torch.tensor(s["loss"])) for s in steps)
    network, ema, _ = built["model"]
    assert all(p.dtype == torch.float32 for p in [*network.parameters(), *ema.parameters()])


def test_without_native_bf16_the_run_says_so_and_is_the_float32_run(store, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr(state_module, "bf16_available", lambda device: False)
    first, seen, steps, _ = _run(_bf16_config(), store, tmp_path / "asked", monkeypatch)
    assert first["device"] == "cpu" and "no native bf16" in first["notice"]
    assert "float32" in first["notice"] and "\n" not in first["notice"]
    assert seen == {torch.float32}
    plain = [r["loss"] for r in train(tiny_config("rolling", total_steps=3), store,
                                      tmp_path / "plain") if r["kind"] == "step"]
    assert [s["loss"] for s in steps] == plain          # the same operations, same order


def test_bf16_with_float64_weights_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="bf16") as err:
        RuntimeConfig(bf16=True, precision="float64")
    assert "\n" not in str(err.value)
