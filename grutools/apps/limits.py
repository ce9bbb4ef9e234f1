"""A dashboard kernel's own limits: one torch thread and a memory cap, read from the environment.

A classroom server (:class:`grutools.classroom.ClassroomKernelManager`) sets
``GRUTOOLS_TORCH_THREADS`` and ``GRUTOOLS_MEMORY_LIMIT_MB`` for every kernel it starts; the
widget apps call these two functions as they are imported (``grutools/apps/__init__.py``).
"""

from __future__ import annotations

import os


def limit_memory() -> int | None:
    """In a dashboard kernel: cap this process's data memory at ``$GRUTOOLS_MEMORY_LIMIT_MB`` (returns the MB set).

    Under JupyterHub, where the spawner sets ``$MEM_LIMIT`` (bytes) for a student's
    whole server, the kernel takes 85% of it when no grutools limit is set: the
    kernel then fails with a message before the spawner kills the whole server.

    ``RLIMIT_DATA`` counts the heap and private memory maps (what torch's tensors
    live in) but not shared libraries, so it tracks what a kernel really costs. Past
    it, an allocation fails: torch raises an out-of-memory error in the computation
    that asked, and the dashboard shows it, while the server and the other students'
    kernels carry on.
    """
    limit = os.environ.get("GRUTOOLS_MEMORY_LIMIT_MB")
    hub = os.environ.get("MEM_LIMIT")
    if not limit and hub and hub.isdigit() and int(hub) > 0:
        limit = str(int(0.85 * int(hub)) // 2**20)
    if not limit or int(limit) <= 0:
        return None
    import resource

    size = int(limit) * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        size = min(size, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (size, size))
    return size // 2**20


def limit_torch_threads() -> int | None:
    """In a dashboard kernel started by :class:`ClassroomKernelManager`, run torch with its thread limit.

    ``OMP_NUM_THREADS`` already sets torch's default; this makes it explicit (and
    returns the limit) for kernels where torch was imported before the variable was read.
    """
    threads = os.environ.get("GRUTOOLS_TORCH_THREADS")
    if not threads:
        return None
    import torch

    torch.set_num_threads(int(threads))
    return int(threads)
