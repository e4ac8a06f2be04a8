"""One writer per store: a second writer is refused naming the holder; dead holders' locks
are taken over."""

import os
import subprocess
import sys
import textwrap

import pytest

from rollflow.errors import StoreError
from rollflow.store import writer_lock
from rollflow.store.lock import lock_path


def test_second_writer_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "out.zarr"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from rollflow.store import writer_lock
        with writer_lock({str(out)!r}):
            print("locked", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match=rf"being written by another process \(PID "
                                             rf"{holder.pid}\)") as err:
            with writer_lock(out):
                pass
        assert "\n" not in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    # the holder died without unlocking: its lock file is stale and simply taken over
    assert lock_path(out).exists()
    with writer_lock(out):
        assert lock_path(out).read_text().strip() == str(os.getpid())


def test_lock_is_released_after_the_block_even_on_error(tmp_path):
    out = tmp_path / "x.zarr"
    with pytest.raises(RuntimeError):
        with writer_lock(out):
            raise RuntimeError("boom")
    with writer_lock(out):
        pass
