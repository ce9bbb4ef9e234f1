"""Compile the fast GRU's C++ extension once per machine and torch version, and load it without a stale lock.

Where it goes: ``$GRUTOOLS_BUILD_DIR`` if set; else, in a clone, ``build/fast_gru/KEY``
beside the package; in an installed package, ``grutools/_build/KEY`` when the package
folder can be written (a virtual environment, or a users' image built as root, so that
every user shares one build) and else the per-user cache,
``~/.cache/grutools/fast_gru/KEY`` (``$XDG_CACHE_HOME``, ``$GRUTOOLS_CACHE_DIR``), as
torch's own extensions do. ``KEY`` names the Python, the torch version and the CPU
(the code is compiled with ``-march=native``), so a new torch or a new machine gets a
new build. A ``stamp.json`` beside the module records what it was built from (the
source's hash, the flags); a stale one is rebuilt.

Why not just ``torch.utils.cpp_extension.load``: it takes a lock file in its build
folder on *every* call, even when nothing needs building, and a process killed while
holding it (a kernel culled or killed by the out-of-memory killer) leaves the file
behind; every later loader then waits forever. Here a built module is imported
directly, with no lock at all, and a build runs under ``fcntl.flock``, which the
operating system releases when its holder dies. Under that lock, torch's own lock
file can only be a dead process's, and it is removed before torch builds.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from .resources import PACKAGE, SHIPPED, cache_dir, root, writable

NAME = "grutools_fast_gru"
SOURCE = PACKAGE / "core" / "csrc" / "fast_gru.cpp"
# built on the machine that runs it, so tuned for it; -ffast-math lets GCC vectorise exp (glibc's libmvec);
# -fopenmp makes at::parallel_for run on PyTorch's OpenMP threads (without it, the pragma is ignored: one thread)
CFLAGS = ["-O3", "-march=native", "-ffast-math", "-fopenmp"]
STAMP = "stamp.json"
LOCK = ".grutools-build.lock"


def build_key() -> str:
    """What a build depends on besides its source: Python, torch, the processor (``py311-torch2.13.0-x86_64-1a2b3c4d``)."""
    import torch

    cpu = platform.processor()
    with contextlib.suppress(OSError):  # -march=native: the model and its instruction set extensions
        info = Path("/proc/cpuinfo").read_text(errors="replace").split("\n\n", 1)[0]
        cpu = "\n".join(line for line in info.splitlines() if line.startswith(("model name", "flags")))
    cpu_hash = hashlib.sha256(cpu.encode()).hexdigest()[:8]
    return f"py{sys.version_info.major}{sys.version_info.minor}-torch{torch.__version__}-{platform.machine()}-{cpu_hash}"


def candidate_directories() -> list[Path]:
    """Where a build may live, in the order they are tried (see the module's docstring)."""
    configured = os.environ.get("GRUTOOLS_BUILD_DIR")
    if configured:
        return [Path(configured)]
    key = build_key()
    if root() != SHIPPED:  # a clone (or an editable install of one)
        return [PACKAGE.parent / "build" / "fast_gru" / key, cache_dir() / "fast_gru" / key]
    return [PACKAGE / "_build" / key, cache_dir() / "fast_gru" / key]


def wanted_stamp() -> dict:
    """What the stamp of an up-to-date build says."""
    import torch

    return {"source_sha256": hashlib.sha256(SOURCE.read_bytes()).hexdigest(), "cflags": CFLAGS,
            "torch": torch.__version__, "python": platform.python_version()}


def built_module(directory: Path) -> Path | None:
    """The compiled module in ``directory`` if its stamp matches this source, torch and flags; else ``None``."""
    try:
        stamp = json.loads((directory / STAMP).read_text())
    except (OSError, ValueError):
        return None
    module = directory / stamp.get("module", "")
    if stamp.get("built_from") != wanted_stamp() or not module.is_file():
        return None
    return module


def import_module(path: Path):
    """Import a compiled extension module from its file (no lock taken)."""
    import torch  # noqa: F401  (the module links against torch's libraries, which torch loads)

    spec = importlib.util.spec_from_file_location(NAME, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def build_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``directory``'s lock file; the kernel releases it if this process dies."""
    import fcntl

    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def compile_into(directory: Path, verbose: bool = False, force: bool = False):
    """Compile the extension into ``directory`` under the build lock and import it.

    Unless ``force``, a build that another process finished while this one waited for the lock is imported instead.
    """
    with build_lock(directory):
        module = None if force else built_module(directory)
        if module is not None:  # built by whoever held the lock before us
            return import_module(module)
        for entry in directory.iterdir():  # a stale build, and torch's lock file of a dead process
            if entry.name != LOCK:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        from torch.utils.cpp_extension import load

        loaded = load(name=NAME, sources=[str(SOURCE)], build_directory=str(directory), extra_cflags=CFLAGS,
                      verbose=verbose)
        stamp = {"module": Path(loaded.__file__).name, "built_from": wanted_stamp()}
        (directory / (STAMP + ".part")).write_text(json.dumps(stamp, indent=1))
        (directory / (STAMP + ".part")).replace(directory / STAMP)  # last: a build is complete once stamped
        return loaded


def load_or_build(verbose: bool = False, force: bool = False):
    """The extension module: an up-to-date build imported directly, else compiled into the first writable place.

    Raises what the compiler or the import raised when no place works.
    """
    directories = candidate_directories()
    if not force:
        for directory in directories:
            module = built_module(directory)
            if module is not None:
                return import_module(module)
    errors = []
    for directory in directories:
        if not writable(directory):
            errors.append(f"{directory} cannot be written")
            continue
        return compile_into(directory, verbose=verbose, force=force)
    raise OSError("no place to build the fast GRU: " + "; ".join(errors))

