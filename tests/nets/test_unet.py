"""PeriodicUNet: shape, periodic-shift equivariance, per-frame conditioning, size."""

import pytest
import torch

from rollflow.configio import from_mapping
from rollflow.errors import ConfigError
from rollflow.nets import PeriodicUNet, UNetConfig, build_network, count_parameters

TINY = UNetConfig(base_channels=8, channel_multipliers=(1, 2), blocks_per_level=1,
                  embedding_dim=16, attention_heads=2, norm_groups=4)
NUM_FRAMES = 5  # 2 context + 3 window


def _inputs(batch=2, size=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, NUM_FRAMES, size, size, generator=gen)
    log_snr = torch.empty(batch, NUM_FRAMES).uniform_(-10, 10, generator=gen)
    is_context = torch.zeros(batch, NUM_FRAMES, dtype=torch.bool)
    is_context[:, :2] = True
    return x, log_snr, is_context


@pytest.fixture(params=["attention", "conv3d"])
def net(request):
    torch.manual_seed(0)
    config = UNetConfig(**{**TINY.__dict__, "temporal_mixing": request.param,
                           "channel_multipliers": (1, 2, 2)})
    return build_network(config, NUM_FRAMES).eval()


def test_output_shape(net):
    x, log_snr, is_context = _inputs()
    assert net(x, log_snr, is_context).shape == x.shape


@pytest.mark.parametrize("shift", [(4, 0), (0, 8), (12, -4)])
def test_equivariant_to_periodic_shifts(net, shift):
    """Rolling by multiples of 2**num_downsamplings (= 4) rolls the output the same way."""
    x, log_snr, is_context = _inputs()
    with torch.no_grad():
        out = net(x, log_snr, is_context)
        shifted = net(torch.roll(x, shift, dims=(2, 3)), log_snr, is_context)
    torch.testing.assert_close(shifted, torch.roll(out, shift, dims=(2, 3)),
                               atol=1e-5, rtol=1e-4)
    assert not torch.allclose(shifted, out, atol=1e-3)  # the shift is visible


def test_each_frame_has_its_own_noise_level(net):
    x, log_snr, is_context = _inputs()
    changed = log_snr.clone()
    changed[:, 3] += 5.0  # one window frame only
    with torch.no_grad():
        base, other = net(x, log_snr, is_context), net(x, changed, is_context)
    per_frame = (base - other).abs().amax(dim=(0, 2, 3))
    assert per_frame[3] > 1e-3
    # Frames do not all share one embedding: changing frame 3 moves frame 3 most.
    assert per_frame[3] >= per_frame.max() - 1e-7


def test_context_flag_matters(net):
    x, log_snr, is_context = _inputs()
    with torch.no_grad():
        base = net(x, log_snr, is_context)
        other = net(x, log_snr, torch.zeros_like(is_context))
    assert (base - other).abs().amax(dim=(0, 2, 3))[:2].min() > 1e-3


def test_frames_mix(net):
    """The output for the last frame depends on the content of the first (context) frame."""
    x, log_snr, is_context = _inputs()
    changed = x.clone()
    changed[:, 0] = torch.randn_like(changed[:, 0])
    with torch.no_grad():
        delta = (net(x, log_snr, is_context) - net(changed, log_snr, is_context)).abs()
    assert delta[:, -1].max() > 1e-4


def test_wrong_frame_count_is_rejected(net):
    x, log_snr, is_context = _inputs()
    with pytest.raises(ValueError, match="expected x"):
        net(x[:, :4], log_snr[:, :4], is_context[:, :4])


def test_cpu_config_size():
    """The CPU-scale experiment backbone has 1–5 M parameters."""
    config = UNetConfig(base_channels=32, channel_multipliers=(1, 2, 2), blocks_per_level=2,
                        embedding_dim=128)
    assert 1_000_000 <= count_parameters(PeriodicUNet(config, 6)) <= 5_000_000


def test_config_validation():
    with pytest.raises(ConfigError, match="norm_groups"):
        UNetConfig(base_channels=12, norm_groups=8)
    with pytest.raises(ConfigError, match="unknown key 'base_channel'"):
        from_mapping(UNetConfig, {"base_channel": 8}, where="[net]")
    with pytest.raises(ConfigError, match="divisible"):
        UNetConfig(channel_multipliers=(1, 2, 2)).check_grid(18)
    built = from_mapping(UNetConfig, {"channel_multipliers": [1, 2]}, where="[net]")
    assert built.channel_multipliers == (1, 2) and built.num_downsamplings == 1
