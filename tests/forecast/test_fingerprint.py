"""The weights' fingerprint: equal for equal weights, different after any one change."""

import torch

from rollflow.forecast import weights_fingerprint


def _net(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.GroupNorm(2, 4))


def test_equal_weights_have_equal_fingerprints_and_one_changed_value_changes_it():
    a, b = _net(0), _net(0)
    assert weights_fingerprint(a) == weights_fingerprint(b)
    assert len(weights_fingerprint(a)) == 16
    with torch.no_grad():
        b[0].weight[0, 0, 0, 0] += 2.0 ** -20       # one value, one ulp-scale step
    assert weights_fingerprint(a) != weights_fingerprint(b)
    assert weights_fingerprint(a) != weights_fingerprint(_net(1))


def test_a_cast_changes_the_fingerprint_but_a_copy_does_not():
    a = _net(0)
    copy = _net(5)
    copy.load_state_dict(a.state_dict())
    assert weights_fingerprint(copy) == weights_fingerprint(a)
    assert weights_fingerprint(_net(0).to(torch.bfloat16)) != weights_fingerprint(a)
