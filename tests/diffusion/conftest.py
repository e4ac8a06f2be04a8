"""Run the (tiny) diffusion tests on one intra-op thread: on a shared 2-core machine torch's
thread pool spins against other processes and makes these tests ~10× slower."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
