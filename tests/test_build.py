"""Building and loading the fast GRU's extension: no lock outlives its process, stale builds are rebuilt."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grutools.core import build, fast

needs_a_build = pytest.mark.skipif(not fast.available(), reason="the fast GRU is not built here (no C++ compiler)")


def built_directory() -> Path:
    found = [d for d in build.candidate_directories() if build.built_module(d) is not None]
    assert found, "no up-to-date build (fast.available() built one)"
    return found[0]


@needs_a_build
def test_a_built_extension_loads_even_beside_a_dead_processs_torch_lock(tmp_path):
    """torch's loader waits forever on a lock file left by a killed process; ours never takes it to load."""
    copy = tmp_path / "build"
    shutil.copytree(built_directory(), copy)
    (copy / "lock").write_text("")  # what a kernel killed inside torch's cpp_extension.load leaves behind
    env = {**os.environ, "GRUTOOLS_BUILD_DIR": str(copy)}
    result = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c",
                             "import grutools.core.fast as f; print(f.available(), f.extension().__file__)"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    available, path = result.stdout.split()
    assert available == "True" and Path(path).parent == copy


def test_the_build_lock_dies_with_its_holder(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from grutools.core.build import build_lock\n"
         f"with build_lock(__import__('pathlib').Path({str(tmp_path)!r})):\n    print('held', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    import fcntl

    with open(tmp_path / build.LOCK, "a") as handle:
        with pytest.raises(BlockingIOError):  # really held
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        holder.send_signal(signal.SIGKILL)  # as the out-of-memory killer or a culler's hard kill would
        holder.wait(10)
        deadline = time.monotonic() + 5
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, "the lock outlived the process that held it"
                time.sleep(0.05)


@needs_a_build
def test_a_build_from_another_source_torch_or_flags_is_not_loaded(tmp_path):
    copy = tmp_path / "build"
    shutil.copytree(built_directory(), copy)
    assert build.built_module(copy) is not None
    stamp = json.loads((copy / build.STAMP).read_text())
    for key, value in [("source_sha256", "0" * 64), ("torch", "1.0.0"), ("cflags", ["-O0"])]:
        changed = json.loads(json.dumps(stamp))
        changed["built_from"][key] = value
        (copy / build.STAMP).write_text(json.dumps(changed))
        assert build.built_module(copy) is None, f"a build with another {key} would be loaded"
    (copy / build.STAMP).unlink()
    assert build.built_module(copy) is None  # no stamp: an interrupted build


def test_the_build_key_names_python_torch_and_the_processor():
    import torch

    key = build.build_key()
    assert f"torch{torch.__version__}" in key and key.startswith(f"py{sys.version_info.major}{sys.version_info.minor}-")
    assert all(d.name == key for d in build.candidate_directories()) or os.environ.get("GRUTOOLS_BUILD_DIR")


def test_an_unwritable_place_is_passed_over_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "candidate_directories", lambda: [tmp_path / "a"])
    monkeypatch.setattr(build, "writable", lambda folder: False)
    with pytest.raises(OSError, match="no place to build the fast GRU: .* cannot be written"):
        build.load_or_build()
