"""The pre-heated pools of a classroom server: a ready kernel first, dead ones replaced, failed refills dropped.

:class:`PoolKeeper` is the part of :class:`~grutools.classroom.kernels.ClassroomKernelManager`
that looks after Voilà's pools (``self._pools``: a notebook's name to its list of refill
tasks, each giving ``{"kernel_id": ...}``): Voilà's page handler sees only the kernels that
are ready, a dead pre-heated kernel is dropped and replaced, a refill that failed at the cap
is dropped and tried again once there is room (every ``repair_interval`` seconds), and a
kernel that died is forgotten whole. The manager's own traits and counters
(``max_kernels``, ``live_kernels``, ``_closing``, ``_shortened``, ``_restarted``) live in
:mod:`.kernels`.
"""

from __future__ import annotations

import asyncio
import inspect


class PoolKeeper:
    """Voilà's pre-heated pools kept usable (a mixin of :class:`ClassroomKernelManager`; see the module doc)."""

    def _repair_now(self) -> None:
        try:
            self.repair_pools()
        except Exception:  # a repair must never take the server down
            self.log.exception("grutools: repairing the kernel pools failed")

    def ready_in_pool(self, notebook_name: str) -> int:
        """Pre-heated kernels of ``notebook_name`` ready for a student now (started, notebook run, process alive).

        Voilà's own count includes refills still starting: a student then waited behind them
        (and behind every refill queued before them). Counting only ready kernels sends a
        student to a kernel of their own when none is ready, ahead of the refills; dead ones
        found here are dropped and replaced at once.
        """
        self.repair_pools(only=notebook_name)
        return sum(1 for task in getattr(self, "_pools", {}).get(notebook_name, []) if self._ready(task))

    def ready_first(self, notebook_name: str) -> None:
        """Put the ready kernels of a pool first, so that Voilà hands a student one of them (it takes the first)."""
        pool = getattr(self, "_pools", {}).get(notebook_name)
        if pool:
            pool.sort(key=lambda task: not self._ready(task))

    def _ready(self, task) -> bool:
        """A pool task is ready once its kernel has started and is alive (the page then gets the rest of the notebook's
        run as it comes, as with any pre-heated kernel; a refill still starting is not ready)."""
        return (task.done() and not task.cancelled() and task.exception() is None
                and not self._pool_kernel_dead(task.result()))

    def __init_subclass__(cls, **kwargs) -> None:
        """Voilà builds its pool manager as a subclass of this class (``voila_kernel_manager_factory``): there the
        pool size Voilà's page handler reads counts only ready kernels, and a student draws a ready one."""
        super().__init_subclass__(**kwargs)
        voila_take = cls.__dict__.get("get_rendered_notebook")
        if voila_take is None or "get_pool_size" not in cls.__dict__:
            return

        def get_pool_size(self, notebook_name: str) -> int:
            return self.ready_in_pool(notebook_name)

        async def get_rendered_notebook(self, notebook_name: str, *args, **kwargs):
            self.ready_first(notebook_name)
            return await voila_take(self, notebook_name, *args, **kwargs)

        voila_shutdown = cls.__dict__.get("shutdown_kernel")

        async def shutdown_kernel(self, kernel_id: str, *args, **kwargs):
            # Voilà looks for the kernel in its pools by each task's result(): a refill that failed (at the cap)
            # raised there, and the closing page's shutdown got HTTP 503 and left the student's kernel running
            self.drop_failed_refills()
            return await voila_shutdown(self, kernel_id, *args, **kwargs)

        get_pool_size.__doc__ = PoolKeeper.ready_in_pool.__doc__
        get_rendered_notebook.__doc__ = voila_take.__doc__
        if voila_shutdown is not None:
            cls.shutdown_kernel = shutdown_kernel
        cls.get_pool_size = get_pool_size
        cls.get_rendered_notebook = get_rendered_notebook

    def _start_repairs(self) -> None:
        if self._repair_task is None and not self._closing and hasattr(self, "fill_if_needed") and self.repair_interval > 0:
            self._repair_task = asyncio.get_event_loop().create_task(self._repair_pools())

    async def _repair_pools(self) -> None:
        """Drop failed refills from Voilà's pre-heated pools and refill them while below the cap."""
        while True:
            await asyncio.sleep(self.repair_interval)
            try:
                self.repair_pools()
            except Exception:  # a repair must never take the server down
                self.log.exception("grutools: repairing the kernel pools failed")

    def repair_pools(self, only: str | None = None) -> int:
        """One repair pass (see :meth:`_repair_pools`), of every pool or ``only`` one; returns how many failed
        refills or dead kernels were dropped."""
        if self._closing:
            return 0
        pools = getattr(self, "_pools", {})
        dropped = 0
        for name, pool in pools.items():
            if only is not None and name != only:
                continue
            failed = [task for task in pool if task.done() and (task.cancelled() or task.exception() is not None
                                                                 or self._pool_kernel_dead(task.result()))]
            for task in failed:
                pool.remove(task)
            dropped += len(failed)
            if (failed or name in self._shortened) and self.live_kernels < self.max_kernels:
                self._shortened.discard(name)
                self.fill_if_needed(delay=0, notebook_name=name)
        return dropped

    def drop_failed_refills(self) -> int:
        """Drop the pool refills that failed (at the cap) or were cancelled; returns how many."""
        dropped = 0
        for name, pool in getattr(self, "_pools", {}).items():
            for task in [t for t in pool if t.done() and (t.cancelled() or t.exception() is not None)]:
                pool.remove(task)
                self._shortened.add(name)
                dropped += 1
        return dropped

    def _pool_kernel_dead(self, result) -> bool:
        """Whether a pre-heated kernel (a pool task's result) is gone or its process has exited."""
        kernel_id = result.get("kernel_id") if isinstance(result, dict) else None
        if kernel_id is None:
            return False
        if kernel_id not in self:
            return True
        if kernel_id in self._restarted:
            self.log.warning("grutools: pre-heated kernel %s was restarted and lost its dashboard; replacing it.",
                             kernel_id)
            self._restarted.discard(kernel_id)
            manager = self.get_kernel(kernel_id)
            stop = getattr(manager, "stop_restarter", None)
            if stop is not None:
                stop()
            process = getattr(getattr(manager, "provisioner", None), "process", None)
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
            self._forget(kernel_id)
            return True
        process = getattr(getattr(self.get_kernel(kernel_id), "provisioner", None), "process", None)
        code = None if process is None else process.poll()
        if code is not None:
            self.log.warning("grutools: pre-heated kernel %s died (exit code %s); replacing it.", kernel_id, code)
            self._forget(kernel_id)
            return True
        return False

    def _forget(self, kernel_id: str) -> None:
        """Drop a dead kernel from the manager: its iopub watch and message buffer, and its connection files.

        ``remove_kernel`` alone left jupyter_server's watch of the kernel's iopub open: a socket and
        a descriptor kept by the server for every dead kernel, and a zmq context that could not
        end (a test run hung in ``Context.term`` when the manager was garbage-collected)."""
        for stop in (self.stop_watching_activity, self.stop_buffering):
            try:
                stop(kernel_id)
            except Exception:  # gone already, or never watched
                self.log.debug("unwatching dead kernel %s", kernel_id, exc_info=True)
        try:
            cleanup = self.get_kernel(kernel_id).cleanup_resources(restart=False)
        except Exception:  # its files may be gone already
            self.log.debug("cleaning up dead kernel %s", kernel_id, exc_info=True)
        else:
            if inspect.isawaitable(cleanup):  # an async kernel manager's cleanup is a coroutine
                asyncio.ensure_future(self._quietly(cleanup, kernel_id))
        self.remove_kernel(kernel_id)

    async def _quietly(self, cleanup, kernel_id: str) -> None:
        try:
            await cleanup
        except Exception:  # its files may be gone already
            self.log.debug("cleaning up dead kernel %s", kernel_id, exc_info=True)
