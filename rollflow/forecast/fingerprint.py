"""A fingerprint of a network's weights, recorded in every forecast's attrs.

A forecast store is resumed, and the demo reuses a kept forecast, only when it was made by
the same weights: the sampler settings and a run's name or checkpoint step do not tell a
re-shipped model (same name, same step) from its predecessor.
"""

from __future__ import annotations

import hashlib

import torch

__all__ = ["FINGERPRINT_ATTR", "weights_fingerprint"]

FINGERPRINT_ATTR = "forecast_weights_sha256"


def weights_fingerprint(network: torch.nn.Module) -> str:
    """First 16 hex digits of the SHA-256 over the network's state dict: every entry's name,
    dtype, shape and raw bytes, in the state dict's order. Equal for the same weights on
    any device; any change of a single value changes it."""
    digest = hashlib.sha256()
    for name, tensor in network.state_dict().items():
        values = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}|{values.dtype}|{tuple(values.shape)}|".encode())
        digest.update(values.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
