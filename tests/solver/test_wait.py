"""A long jitted chunk no longer delays Ctrl-C/SIGTERM (issue 15: 31 s at 512², more than
35 s at 4096²): the main thread is interrupted within the polling interval."""

import os
import signal
import threading
import time

import jax
import jax.numpy as jnp
import pytest

from rollflow.solver.wait import POLL_SECONDS, wait_ready


@jax.jit
def _slow(x):
    def body(i, y):
        return jnp.tanh(y @ y) * 0.5 + y * 0.5
    return jax.lax.fori_loop(0, 1500, body, x)


def _seconds_of_work():
    x = jnp.ones((384, 384)) * 1e-3
    start = time.perf_counter()
    wait_ready(_slow(x))                          # compiles too (≈ 0.2 s of it)
    return x, time.perf_counter() - start


def test_a_signal_interrupts_the_wait_promptly():
    x, seconds = _seconds_of_work()
    if seconds < 8 * POLL_SECONDS:
        pytest.skip(f"the computation took only {seconds:.2f} s here; nothing to interrupt")
    timer = threading.Timer(POLL_SECONDS, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        wait_ready(_slow(x))
    waited = time.perf_counter() - start
    # heard within two polls of the signal, long before the computation could finish
    assert waited < 3 * POLL_SECONDS + 0.5 < seconds


def test_errors_and_other_threads():
    wait_ready(jnp.ones(3))                       # plain values pass
    out = []
    thread = threading.Thread(target=lambda: out.append(wait_ready(jnp.zeros(2)) is None))
    thread.start()
    thread.join()
    assert out == [True]
