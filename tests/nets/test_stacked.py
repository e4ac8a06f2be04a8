"""StackedUNet (frames as channels): shape, periodic-shift equivariance, per-frame
conditioning, slot identity and cost relative to the per-frame U-Net."""

import pytest
import torch

from rollflow.errors import ConfigError
from rollflow.nets import PeriodicUNet, StackedUNet, UNetConfig, build_network

TINY = UNetConfig(window_encoding="channels", base_channels=8, channel_multipliers=(1, 2, 2),
                  blocks_per_level=1, embedding_dim=16, attention_heads=2, norm_groups=4)
NUM_FRAMES = 5  # 2 context + 3 window


def _inputs(batch=2, size=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, NUM_FRAMES, size, size, generator=gen)
    log_snr = torch.empty(batch, NUM_FRAMES).uniform_(-10, 10, generator=gen)
    is_context = torch.zeros(batch, NUM_FRAMES, dtype=torch.bool)
    is_context[:, :2] = True
    return x, log_snr, is_context


@pytest.fixture
def net():
    torch.manual_seed(0)
    return build_network(TINY, NUM_FRAMES).eval()


def test_build_network_dispatches_on_window_encoding(net):
    assert isinstance(net, StackedUNet)
    frames = UNetConfig(**{**TINY.__dict__, "window_encoding": "frames"})
    assert isinstance(build_network(frames, NUM_FRAMES), PeriodicUNet)
    with pytest.raises(ConfigError, match="window_encoding"):
        UNetConfig(window_encoding="tokens")


def test_output_shape(net):
    x, log_snr, is_context = _inputs()
    assert net(x, log_snr, is_context).shape == x.shape


@pytest.mark.parametrize("shift", [(4, 0), (0, 8), (12, -4)])
def test_equivariant_to_periodic_shifts(net, shift):
    x, log_snr, is_context = _inputs()
    with torch.no_grad():
        out = net(x, log_snr, is_context)
        shifted = net(torch.roll(x, shift, dims=(2, 3)), log_snr, is_context)
    torch.testing.assert_close(shifted, torch.roll(out, shift, dims=(2, 3)),
                               atol=1e-5, rtol=1e-4)
    assert not torch.allclose(shifted, out, atol=1e-3)


def test_noise_level_and_flag_of_one_frame_matter(net):
    x, log_snr, is_context = _inputs()
    changed = log_snr.clone()
    changed[:, 3] += 5.0
    flags = is_context.clone()
    flags[:, 4] = True
    with torch.no_grad():
        base = net(x, log_snr, is_context)
        assert (base - net(x, changed, is_context)).abs().max() > 1e-3
        assert (base - net(x, log_snr, flags)).abs().max() > 1e-3


def test_frame_order_of_noise_levels_matters(net):
    """Swapping two frames' λ is not a no-op: the embedding knows which frame has which."""
    x, log_snr, is_context = _inputs()
    swapped = log_snr.clone()
    swapped[:, [2, 4]] = log_snr[:, [4, 2]]
    with torch.no_grad():
        assert (net(x, log_snr, is_context) - net(x, swapped, is_context)).abs().max() > 1e-3


def test_frames_mix(net):
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


@pytest.mark.parametrize("encoding", ["frames", "channels"])
def test_identical_window_slots_get_different_outputs(encoding):
    """The deterministic mode feeds every window slot zeros, λ_min and the same flag; the
    backbone must still tell the +1 frame from the +3 frame (its own lead time)."""
    torch.manual_seed(0)
    net = build_network(UNetConfig(**{**TINY.__dict__, "window_encoding": encoding}),
                        NUM_FRAMES).eval()
    x, _, is_context = _inputs()
    x[:, 2:] = 0.0
    log_snr = torch.full((2, NUM_FRAMES), -15.0)
    log_snr[:, :2] = 15.0
    with torch.no_grad():
        out = net(x, log_snr, is_context)[:, 2:]
    gaps = [(out[:, i] - out[:, j]).abs().max() for i in range(3) for j in range(i + 1, 3)]
    assert min(gaps) > 1e-4


def test_prepended_frames_start_with_zero_weight(net):
    """A network given 2 older context frames by `prepend_frames` computes, at the original
    frames, what the original computes, whatever the new frames hold; at once trainable
    (the new weights get gradients). Bound: the zero-weight channels add exact zeros, so
    only the order of float32 sums may change (≈ 30 layers of sums of ≤ 9·32·2 terms, each
    off by ≤ that many ulps, ε = 6e-8): ≤ 1e-4 of the output's largest value."""
    from rollflow.nets.stacked import prepend_frames

    wider = build_network(TINY, NUM_FRAMES + 2).eval()
    wider.load_state_dict(prepend_frames(net.state_dict(), NUM_FRAMES, 2))
    x, log_snr, is_context = _inputs()
    gen = torch.Generator().manual_seed(3)
    older = torch.randn(2, 2, 16, 16, generator=gen)
    big = wider(torch.cat([older, x], 1), torch.cat([torch.full((2, 2), 15.0), log_snr], 1),
                torch.cat([torch.ones(2, 2, dtype=torch.bool), is_context], 1))
    with torch.no_grad():
        small = net(x, log_snr, is_context)
    torch.testing.assert_close(big[:, 2:].detach(), small, rtol=0,
                               atol=1e-4 * small.abs().max().item())
    assert big[:, :2].abs().max() == 0                      # zero output channels
    big[:, 2:].square().mean().backward()
    assert wider.stem.weight.grad[:, :2].abs().sum() > 0    # the older frames can be learnt
    with pytest.raises(ValueError, match="input channels"):
        prepend_frames(net.state_dict(), NUM_FRAMES + 1, 2)


FORCED = UNetConfig(**{**TINY.__dict__, "forcing_wavenumber": 2})   # N/k_f = 8 on 16²


def test_forcing_channels_are_the_forcing_phase_on_the_node_grid():
    """cos(k y_j), sin(k y_j) at y_j = 2π j/N along the last axis, constant along x. Bound:
    computed in float64 and rounded once to float32 (≤ 2⁻²⁴ ≈ 6e-8 for values ≤ 1)."""
    import numpy as np

    from rollflow.nets.stacked import forcing_channels

    channels = forcing_channels(4, 8, 16, torch.zeros(()))
    y = 2 * np.pi * np.arange(16) / 16
    assert channels.shape == (1, 2, 8, 16) and channels.dtype == torch.float32
    for index, expected in enumerate([np.cos(4 * y), np.sin(4 * y)]):
        np.testing.assert_allclose(channels[0, index].numpy(),
                                   np.broadcast_to(expected, (8, 16)), rtol=0, atol=1e-7)


def test_a_network_that_sees_the_forcing_commutes_only_with_the_flows_y_shifts():
    """With the forcing channels, y-shifts by N/k_f (8 here) and x-shifts still commute with
    the network; a y-shift by 4 (a multiple of the downsampling factor, so the plain network
    commutes with it) does not: it moves the flow against its forcing. Bound: a roll only
    relabels the points, and the shifted forcing channels equal the unshifted ones to one
    float32 rounding, so only the order of float32 sums may change (the bound of the
    prepended-frames test below, ≤ 1e-4 of the largest output); a shift that does not
    commute must differ by 100 times that."""
    torch.manual_seed(0)
    net = build_network(FORCED, NUM_FRAMES).eval()
    x, log_snr, is_context = _inputs()
    with torch.no_grad():
        out = net(x, log_snr, is_context)
        bound = 1e-4 * out.abs().max().item()
        for shift in [(4, 0), (0, 8), (12, -8)]:
            moved = net(torch.roll(x, shift, dims=(2, 3)), log_snr, is_context)
            torch.testing.assert_close(moved, torch.roll(out, shift, dims=(2, 3)),
                                       rtol=0, atol=bound)
        moved = net(torch.roll(x, 4, dims=3), log_snr, is_context)
    assert (moved - torch.roll(out, 4, dims=3)).abs().max() > 100 * bound


def test_added_forcing_channels_start_with_zero_weight(net):
    """`add_forcing_channels` gives a network that sees the forcing and computes what the
    original computes (zero stem weights on the two new channels; only the order of float32
    sums may change: the bound of the prepended-frames test, ≤ 1e-4 of the largest value),
    and the new weights can be learnt. A stem that already has them is refused."""
    from rollflow.nets.stacked import add_forcing_channels

    forced = build_network(FORCED, NUM_FRAMES).eval()
    forced.load_state_dict(add_forcing_channels(net.state_dict(), NUM_FRAMES))
    x, log_snr, is_context = _inputs()
    with torch.no_grad():
        plain = net(x, log_snr, is_context)
    seen = forced(x, log_snr, is_context)
    torch.testing.assert_close(seen.detach(), plain, rtol=0,
                               atol=1e-4 * plain.abs().max().item())
    seen.square().mean().backward()
    assert forced.stem.weight.grad[:, -2:].abs().sum() > 0
    with pytest.raises(ValueError, match="input channels"):
        add_forcing_channels(forced.state_dict(), NUM_FRAMES)


def test_prepended_frames_keep_the_forcing_channels():
    """`prepend_frames` on a network that sees the forcing puts the new frames' zero channels
    in front of the fields and of the λ maps and keeps the forcing channels last: the wider
    network computes what the original computes at its frames (bound as above)."""
    from rollflow.nets.stacked import prepend_frames

    torch.manual_seed(0)
    forced = build_network(FORCED, NUM_FRAMES).eval()
    wider = build_network(FORCED, NUM_FRAMES + 1).eval()
    wider.load_state_dict(prepend_frames(forced.state_dict(), NUM_FRAMES, 1))
    x, log_snr, is_context = _inputs()
    older = torch.randn(2, 1, 16, 16, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        small = forced(x, log_snr, is_context)
        big = wider(torch.cat([older, x], 1), torch.cat([torch.full((2, 1), 15.0), log_snr], 1),
                    torch.cat([torch.ones(2, 1, dtype=torch.bool), is_context], 1))
    torch.testing.assert_close(big[:, 1:], small, rtol=0, atol=1e-4 * small.abs().max().item())


@pytest.mark.parametrize("changes", [{"forcing_wavenumber": -1},
                                     {"forcing_wavenumber": 4, "window_encoding": "frames"}])
def test_bad_forcing_wavenumber_is_rejected(changes):
    with pytest.raises(ConfigError, match="forcing_wavenumber"):
        UNetConfig(**{**TINY.__dict__, **changes})
