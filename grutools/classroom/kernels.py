"""Serving the dashboards to a class: a kernel manager with a cap, one torch thread per kernel, and a full pool.

Voilà starts one Python kernel per open dashboard (about 300 MB each with torch and
an app loaded, see ``benchmarks/classroom_load.py``), and nothing in Voilà limits
their number: thirty students opening three tabs each would exhaust the machine.
:class:`ClassroomKernelManager`, named in ``voila.json``, adds what a classroom needs:

- **a cap** (``max_kernels``), pre-heated kernels included; a student at the cap first
  takes the seat of a pre-heated kernel waiting for another dashboard. Past it a new page gets Voilà's error page with
  status 503, which our template (``503.html``) words as "the class is full, try
  again in a minute", instead of the server running out of memory;
- **one torch thread per kernel** (``torch_threads``, through ``OMP_NUM_THREADS``):
  with one kernel training on 2 cores, two threads per kernel would make every
  other student's sliders wait;
- **pre-heated pools refilled one kernel at a time**: Voilà refills a notebook's
  pool as soon as a kernel is taken from it. When a class of 20 arrives, that is 20
  kernels importing torch and running the notebook at once, which starved the
  students' own kernels on 2 cores (measured: slider responses of 6 s, page loads of
  20 s). Pool kernels are started ``refill_concurrency`` at a time (default 1), the
  next once the previous one has run its notebook; a refill waiting for its turn holds
  no seat under the cap (it takes one, or fails at the cap, when its turn comes);
- **pre-heated pools kept full**: a refill that fails (at the cap) stays in Voilà's
  pool as a failed task until a student draws it. Every ``repair_interval`` seconds
  the manager drops failed refills and tops the pools up again while there is room.

- **a memory limit per kernel** (``memory_limit_mb``; 0, the default, sizes it so
  that ``max_kernels`` kernels fit in 90% of the machine's memory, but never below
  ``memory_floor_mb``): a kernel whose memory runs away gets an out-of-memory error
  in its own computation, which its dashboard shows, instead of taking the server
  and every other student down (the kernel sets ``RLIMIT_DATA`` on itself, from
  ``GRUTOOLS_MEMORY_LIMIT_MB``, as it imports the apps);
- **dead kernels not restarted, dead pre-heated kernels replaced**: jupyter_client would
  restart a killed kernel empty (its page's widgets gone), and restarting every kernel of a
  server killed at once took the 2 cores for minutes; here a dead kernel stays dead (its
  page says so), and a pool kernel that died is dropped from its pool and replaced at once;
- **a student before the refills**: Voilà's page handler sees only the pre-heated
  kernels that are ready; with none ready, a student's page starts a kernel of its own at
  once, and refills wait to start (at most ``student_priority_s``) until the student's
  notebook has run.

Idle kernels are culled by Jupyter's own settings (``MappingKernelManager.cull_idle_timeout``
and friends, set in ``voila.json``); pre-heated kernels waiting in a pool are never culled.
"""

from __future__ import annotations

import asyncio
import inspect
import os

from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Float, Int

from .pools import PoolKeeper


class ClassFull(web.HTTPError):
    """Raised instead of starting a kernel past ``max_kernels``; Voilà shows it as a 503 page."""

    def __init__(self, live: int, cap: int) -> None:
        super().__init__(503, f"{live} dashboards are open on this server; its limit is {cap}", reason="The class is full")


class ClassroomKernelManager(PoolKeeper, AsyncMappingKernelManager):
    """Jupyter's kernel manager with a cap on live kernels and a thread limit per kernel (see the module doc)."""

    max_kernels = Int(40, config=True, help="Most kernels alive at once, pre-heated ones included; then 'class is full'.")
    torch_threads = Int(1, config=True, help="Intra-op threads of torch (OMP_NUM_THREADS) in every kernel.")
    repair_interval = Float(5.0, config=True, help="Seconds between checks that drop failed pool refills and refill.")
    refill_concurrency = Int(1, config=True, help="Pre-heated kernels started (and running their notebook) at once.")
    refill_timeout = Float(60.0, config=True, help="Most seconds a pre-heated kernel may hold its start slot.")
    student_priority_s = Float(20.0, config=True, help="Most seconds a refill waits to start while a student's own "
                                                       "kernel starts; 0: no priority.")
    memory_limit_mb = Int(0, config=True, help="Memory limit per kernel in MB (RLIMIT_DATA); 0: sized so that "
                                               "max_kernels fit in 90% of the machine, at least memory_floor_mb.")
    memory_floor_mb = Int(768, config=True, help="The smallest automatic memory limit per kernel, in MB (a dashboard "
                                                 "kernel at rest takes 360-480 MB).")

    _closing = False  # shutdown_all has begun: no kernel is started or refilled any more

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._starting = 0  # kernels asked for but not yet in self (a start takes a second or two)
        self._restarted: set[str] = set()  # kernels jupyter_client restarted after they died
        self._repair_task: asyncio.Task | None = None
        self._refill_slots: asyncio.Semaphore | None = None
        self._students_starting = 0  # students' own kernels (no pre-heated one was ready) not yet drawn
        self._shortened: set[str] = set()  # pools that lost a kernel or a refill to the cap: refilled when there is room

    @property
    def live_kernels(self) -> int:
        """Kernels running or starting."""
        return len(self.list_kernel_ids()) + self._starting

    def kernel_environment(self, env: dict | None) -> dict:
        """The environment of a new kernel: ``env`` (or this process's) with the thread limit."""
        env = dict(os.environ if env is None else env)
        threads = str(max(1, self.torch_threads))
        env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, GRUTOOLS_TORCH_THREADS=threads)
        limit = self.kernel_memory_limit_mb()
        if limit > 0:
            env["GRUTOOLS_MEMORY_LIMIT_MB"] = str(limit)
        return env

    def kernel_memory_limit_mb(self) -> int:
        """The memory limit of each kernel in MB (see ``memory_limit_mb``); negative ``memory_limit_mb``: none."""
        if self.memory_limit_mb != 0:
            return max(0, self.memory_limit_mb)
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
        return max(self.memory_floor_mb, int(0.9 * total / max(1, self.max_kernels)))

    async def shutdown_all(self, *args, **kwargs):
        """Shut every kernel down, and start none from now on: Voila's own shutdown waits for the refills still
        queued, and each then started a kernel (its notebook run and all) only to stop it, writing its connection
        file after the server had removed its folder; the stop outlasted the service manager's grace."""
        self._closing = True
        if self._repair_task is not None:
            self._repair_task.cancel()
        return await super().shutdown_all(*args, **kwargs)

    def _refuse_if_closing(self) -> None:
        if self._closing:
            raise web.HTTPError(503, "the server is shutting down; no new kernel is started")

    async def start_kernel(self, *args, **kwargs):
        self._refuse_if_closing()
        kwargs["env"] = self.kernel_environment(kwargs.get("env"))
        preheat = kwargs["env"].get("VOILA_PREHEAT") == "True"
        slot = student = counted = False
        try:
            if preheat and self.refill_concurrency > 0:
                # a refill takes its seat only once its turn has come: queued refills holding seats turned a class
                # away at the cap as it arrived (the soak: 18 pages got 503 in its first minutes, with 30 students
                # on a cap of 45, while some 20 refills waited for their one start slot)
                if self._refill_slots is None:
                    self._refill_slots = asyncio.Semaphore(self.refill_concurrency)
                await self._refill_slots.acquire()
                slot = True
                await self._students_first()
                self._refuse_if_closing()  # it may have waited for its slot while the server began to stop
            if self.live_kernels >= self.max_kernels and not (not preheat and await self._free_a_seat()):
                if preheat:
                    self.log.info("grutools: at the cap of %d kernels; a pool refill waits for room.", self.max_kernels)
                else:
                    self.log.warning("Class full: %d kernels alive, max_kernels is %d; a page was turned away.",
                                     self.live_kernels, self.max_kernels)
                raise ClassFull(self.live_kernels, self.max_kernels)
            self._starting += 1  # no await between the check and here: two starts cannot both take the last seat
            counted = True
            if not preheat:
                student = True
                self._students_starting += 1
            kernel_id = await super().start_kernel(*args, **kwargs)
            manager = self.get_kernel(kernel_id)
            # a killed kernel is restarted by jupyter_client under the same id, alive but empty: a pre-heated one
            # would then serve a page whose widgets it no longer has ("model not found"), so remember restarts
            manager.add_restart_callback(lambda: self._restarted.add(kernel_id), "restart")
            if preheat:  # a dead pre-heated one is replaced at once, never restarted, even while it starts: a
                # restart would give a new kernel under the old id, empty, that the pool repair must then replace too
                # (benchmarks/recovery.py found jupyter_client restarting refills killed while they ran their notebook)
                manager.add_restart_callback(lambda: self._preheated_died(kernel_id, manager), "dead")
                self._no_more_restarts(kernel_id)
            loop = asyncio.get_event_loop()
            if slot:  # the slot is handed to a task that frees it once the notebook has run
                loop.create_task(self._release_when_settled(kernel_id))
                slot = False
            elif preheat:
                loop.create_task(self._settle_preheated(kernel_id))
            if student:  # likewise the refills' wait, once the student's notebook has run
                self.log.info("grutools: kernel %s started for a page (no pre-heated kernel was ready)", kernel_id)
                loop.create_task(self._student_settled(kernel_id))
                student = False
            return kernel_id
        finally:
            if counted:
                self._starting -= 1
            if slot:
                self._refill_slots.release()
            if student:
                self._student_done()
            self._start_repairs()

    async def _free_a_seat(self) -> bool:
        """At the cap, a student comes before a pre-heated kernel waiting for someone else: shut one down.

        The pools count against ``max_kernels`` (they hold memory like any kernel). With a pool
        for every dashboard, a class of 30 on a cap of 45 found its last seats held by kernels
        pre-heated for dashboards nobody opened, and pages got 503 (the soak's errors). The kernel
        freed is a ready one from the fullest pool; the repair refills that pool once there is room again."""
        pools = sorted(getattr(self, "_pools", {}).items(), key=lambda item: -len(item[1]))
        for name, pool in pools:
            for task in list(pool):
                if not self._ready(task):
                    continue
                pool.remove(task)
                self._shortened.add(name)
                kernel_id = task.result()["kernel_id"]
                self.log.info("grutools: at the cap of %d; pre-heated kernel %s of %s shut down for a student",
                              self.max_kernels, kernel_id, name)
                try:
                    await self.shutdown_kernel(kernel_id, now=True)
                except Exception:  # gone already: its seat is free all the same
                    self.log.debug("shutting down pre-heated kernel %s", kernel_id, exc_info=True)
                return self.live_kernels < self.max_kernels
        return False

    async def _settled(self, kernel_id: str, quiet: float = 1.0, timeout: float | None = None) -> None:
        """Return once a new kernel has run its notebook (busy, then idle for ``quiet`` s), is gone, or time is up."""
        loop = asyncio.get_event_loop()
        deadline = loop.time() + (self.refill_timeout if timeout is None else timeout)
        seen_busy = False
        while loop.time() < deadline:
            await asyncio.sleep(0.2)
            if kernel_id not in self:
                return
            kernel = self.get_kernel(kernel_id)
            state = getattr(kernel, "execution_state", "idle")
            seen_busy = seen_busy or state == "busy"
            last = getattr(kernel, "last_activity", None)
            quiet_for = (utcnow() - last).total_seconds() if last is not None else quiet
            if seen_busy and state == "idle" and quiet_for >= quiet:
                return

    def _no_more_restarts(self, kernel_id: str) -> None:
        """Once a kernel has run its notebook, it is never restarted: a dashboard kernel restarted empty serves
        nothing (its page says the connection was lost and asks for a reload), and restarting every kernel of a
        server killed at once, then replacing each pre-heated one, kept 2 cores busy for minutes while a student
        waited. Until then jupyter_client may still restart a student's own kernel (with new ports, if it lost a
        race for its ports); a pre-heated one is never restarted (it is replaced, with new ports, when it dies)."""
        if kernel_id in self:
            restarter = getattr(self.get_kernel(kernel_id), "_restarter", None)
            if restarter is not None:
                restarter.restart_limit = 0

    async def _settle_preheated(self, kernel_id: str) -> None:
        try:
            await self._settled(kernel_id)
        finally:
            self._no_more_restarts(kernel_id)

    async def _release_when_settled(self, kernel_id: str) -> None:
        """Free a refill slot once the new pre-heated kernel has run its notebook."""
        try:
            await self._settle_preheated(kernel_id)
        finally:
            self._refill_slots.release()

    async def _student_settled(self, kernel_id: str) -> None:
        try:
            await self._settled(kernel_id, quiet=0.5, timeout=self.student_priority_s)
        finally:
            self._no_more_restarts(kernel_id)
            self._student_done()

    def _student_done(self) -> None:
        self._students_starting = max(0, self._students_starting - 1)

    async def _students_first(self) -> None:
        """A refill waits to start while a student's own kernel starts (at most ``student_priority_s``)."""
        loop = asyncio.get_event_loop()
        deadline = loop.time() + self.student_priority_s
        while self._students_starting and loop.time() < deadline:
            await asyncio.sleep(0.2)

    def _preheated_died(self, kernel_id: str, manager) -> None:
        """jupyter_client found a pre-heated kernel dead (and, as told, did not restart it): clean up and refill now."""
        self.log.warning("grutools: pre-heated kernel %s died; replacing it.", kernel_id)
        try:
            cleanup = manager.cleanup_resources(restart=False)
        except Exception:  # its files may be gone already
            self.log.debug("cleaning up dead kernel %s", kernel_id, exc_info=True)
        else:
            if inspect.isawaitable(cleanup):
                asyncio.ensure_future(self._quietly(cleanup, kernel_id))
        asyncio.get_event_loop().call_soon(self._repair_now)
