"""Weight-space blends of two models: the end points are the models themselves, the middle
is the average to float32 rounding, a model blended with itself is unchanged, a blend
written to disk loads back exactly, and models of different families are refused."""

import dataclasses
import json

import pytest
import torch

from rollflow.errors import ConfigError
from rollflow.nets import build_network
from rollflow.training import NormStats, TrainedModel, load_trained
from rollflow.training.blend import blend_models, blend_weights, export_blend
from rollflow.training.shipped import write_model

from training_fixtures import tiny_config

STATS = NormStats(mean=0.1, std=2.0)


def _model(seed: int, config=None, stats=STATS) -> TrainedModel:
    config = config or tiny_config("rolling")
    torch.manual_seed(seed)
    network = build_network(config.net, config.num_frames)
    with torch.no_grad():                      # non-trivial values in every tensor
        for p in network.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return TrainedModel(network=network.eval(), config=config, stats=stats, step=7,
                        grid_size=16)


def _weights(model):
    return model.network.state_dict()


def test_end_points_are_the_models_bit_for_bit():
    a, b = _model(0), _model(1)
    for weight, ref in ((0.0, a), (1.0, b)):
        blended = _weights(blend_models(a, b, weight))
        for name, value in _weights(ref).items():
            assert torch.equal(blended[name], value), (weight, name)


def test_middle_is_the_average_to_rounding():
    # torch.lerp rounds once per multiply and add: |lerp − (a+b)/2| ≤ 2 ε₃₂ (|a| + |b|)
    a, b = _model(0), _model(1)
    blended = _weights(blend_models(a, b, 0.5))
    eps = torch.finfo(torch.float32).eps
    for name, x in _weights(a).items():
        y = _weights(b)[name]
        exact = (x.double() + y.double()) / 2
        bound = 2 * eps * (x.double().abs() + y.double().abs())
        assert ((blended[name].double() - exact).abs() <= bound).all(), name
    assert not all(torch.equal(x, _weights(b)[n]) for n, x in _weights(a).items())


def test_a_model_blended_with_itself_is_unchanged():
    a = _model(0)
    gen = torch.Generator().manual_seed(0)
    frames = a.config.num_frames
    x = torch.randn(2, frames, 16, 16, generator=gen)
    log_snr = torch.linspace(-5, 5, frames).expand(2, frames)
    is_context = torch.zeros(2, frames, dtype=torch.bool)
    is_context[:, 0] = True
    blended = blend_models(a, _model(0), 0.3)
    with torch.no_grad():
        assert torch.equal(blended.network(x, log_snr, is_context),
                           a.network(x, log_snr, is_context))


def test_blend_written_to_disk_loads_back_exactly(tmp_path):
    a, b = _model(0), _model(1)
    refs = []
    for name, model in (("a", a), ("b", b)):
        write_model(name, _weights(model), config=model.config, stats=model.stats,
                    grid_size=16, step=model.step, directory=tmp_path, dtype=torch.float32)
        refs.append(tmp_path / f"{name}.safetensors")
    path = export_blend(refs[0], refs[1], 0.25, "mix", directory=tmp_path / "out")
    loaded = load_trained(path)
    expected = _weights(blend_models(a, b, 0.25))
    for name, value in _weights(loaded).items():
        assert torch.equal(value, expected[name]), name
    assert loaded.stats == STATS and loaded.grid_size == 16
    meta = json.loads(path.with_suffix(".json").read_text())     # what was blended
    assert meta["card"]["blend"]["weight"] == 0.25
    assert meta["card"]["blend"]["a"] == str(refs[0])


def test_training_only_fields_may_differ():
    config = tiny_config("rolling")
    tuned = config.replace(diffusion=config.diffusion.replace(train_context_noise=0.1))
    assert blend_models(_model(0), _model(1, config=tuned), 0.5).config == tuned
    other = config.replace(diffusion=tuned.diffusion.replace(window_size=3))
    with pytest.raises(ConfigError, match=r"\[diffusion\] differ in window_size$"):
        blend_models(_model(0), _model(1, config=other), 0.5)     # noise not named


def test_a_blend_never_overwrites_one_of_its_inputs(tmp_path):
    model = _model(0)
    write_model("a", _weights(model), config=model.config, stats=model.stats, grid_size=16,
                step=7, directory=tmp_path, dtype=torch.float32)
    before = (tmp_path / "a.safetensors").read_bytes()
    with pytest.raises(ConfigError, match="it is the input"):
        export_blend(tmp_path / "a.safetensors", tmp_path / "a.safetensors", 0.5, "a",
                     directory=tmp_path)
    assert (tmp_path / "a.safetensors").read_bytes() == before


@pytest.mark.parametrize("change, message", [
    ("window", r"\[diffusion\] differ in window_size"),
    ("net", r"\[net\] differ in base_channels"),
    ("stats", r"normalisations differ"),
    ("grid", r"grids 16² and 32² differ"),
])
def test_other_families_are_refused_in_one_line(change, message):
    config = tiny_config("rolling")
    a = _model(0)
    if change == "window":
        b = _model(1, config=config.replace(
            diffusion=config.diffusion.replace(window_size=3)))
    elif change == "net":
        b = _model(1, config=config.replace(
            net=dataclasses.replace(config.net, base_channels=4)))
    elif change == "stats":
        b = _model(1, stats=NormStats(mean=0.1, std=2.5))
    else:
        b = dataclasses.replace(_model(1), grid_size=32)
    with pytest.raises(ConfigError, match=message) as err:
        blend_models(a, b, 0.5)
    assert "\n" not in str(err.value)


def test_weight_outside_unit_interval_is_refused():
    with pytest.raises(ConfigError, match=r"blend weight must lie in \[0, 1\], got 1.5"):
        blend_models(_model(0), _model(1), 1.5)
    with pytest.raises(ValueError, match="differ in"):
        blend_weights({"x": torch.zeros(1)}, {"y": torch.zeros(1)}, 0.5)
