"""The data dir's instance lock: one holder, its pid readable, released however it ends."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kimaki.util.instance_lock import AlreadyRunning, InstanceLock, running_pid

HOLD = """
import sys, time
from pathlib import Path
from kimaki.util.instance_lock import InstanceLock
InstanceLock(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    assert running_pid(tmp_path) is None
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert running_pid(tmp_path) == holder.pid
        with pytest.raises(AlreadyRunning) as refused:
            InstanceLock(tmp_path).acquire()
        assert refused.value.pid == holder.pid
        assert f"pid {holder.pid}" in str(refused.value)
        assert stat.S_IMODE(os.stat(tmp_path / "kimaki.lock").st_mode) == 0o600
    finally:
        holder.kill()  # as kill -9: the kernel drops the lock
        holder.wait()
    assert running_pid(tmp_path) is None
    with InstanceLock(tmp_path):
        assert running_pid(tmp_path) == os.getpid()
    assert running_pid(tmp_path) is None
