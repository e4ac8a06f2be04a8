"""bf16 autocast helper: on when asked, a plain float32 context otherwise."""

import torch

from rollflow.nets import precision


def test_autocast_bf16_switches_matmuls_to_bf16_only_when_enabled():
    a, b = torch.randn(8, 8), torch.randn(8, 8)
    cpu = torch.device("cpu")
    with precision.autocast_bf16(cpu, enabled=False):
        assert (a @ b).dtype == torch.float32
    with precision.autocast_bf16(cpu, enabled=True):
        assert (a @ b).dtype == torch.bfloat16


def test_bf16_is_available_on_cuda_always_and_on_cpu_only_when_native(monkeypatch):
    monkeypatch.setattr(precision, "native_bf16", lambda: False)
    assert not precision.bf16_available(torch.device("cpu"))
    assert precision.bf16_available(torch.device("cuda"))
    monkeypatch.setattr(precision, "native_bf16", lambda: True)
    assert precision.bf16_available(torch.device("cpu"))
