"""Classroom serving: the kernel cap and its 'class is full' page, pool repair, threads, and no code execution."""

import asyncio
import json
import time
import uuid
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from tornado import web

from grutools.classroom import ClassFull, ClassroomKernelManager, limit_torch_threads
from grutools.testing.kernel_socket import KernelSocket, page_kernel_id, shutdown_request
from grutools.testing.serving import dashboard_url, kernel_processes, voila_server, wait_until_idle

ROOT = Path(__file__).resolve().parent.parent


def fetch(url: str) -> tuple[int, str]:
    request = Request(url)
    try:
        with urlopen(request, timeout=120) as response:  # noqa: S310 (localhost)
            return response.status, response.read().decode()
    except HTTPError as error:
        return error.code, error.read().decode()


def shut_down(base: str, kernel_id: str) -> None:
    url, headers = shutdown_request(base, kernel_id)
    with urlopen(Request(url, method="POST", data=b"", headers=headers), timeout=30) as response:  # noqa: S310
        assert response.status == 204


def test_voila_json_serves_a_class_with_preheated_kernels_a_cap_culling_and_one_thread():
    config = json.loads((ROOT / "voila.json").read_text())
    voila = config["VoilaConfiguration"]
    assert voila["preheat_kernel"] and voila["multi_kernel_manager_class"] == "grutools.classroom.ClassroomKernelManager"
    assert not voila.get("progressive_rendering", False)  # Voila refuses it with pre-heated kernels
    assert config["ClassroomKernelManager"]["max_kernels"] > 0 and config["ClassroomKernelManager"]["torch_threads"] == 1
    assert config["MappingKernelManager"]["cull_idle_timeout"] > 0


def test_new_kernels_get_one_torch_thread(monkeypatch):
    manager = ClassroomKernelManager(torch_threads=1, memory_limit_mb=-1)
    env = manager.kernel_environment({"PATH": "/bin"})
    assert env == {"PATH": "/bin", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "GRUTOOLS_TORCH_THREADS": "1"}
    import torch

    before = torch.get_num_threads()
    monkeypatch.setenv("GRUTOOLS_TORCH_THREADS", "1")
    try:
        assert limit_torch_threads() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    monkeypatch.delenv("GRUTOOLS_TORCH_THREADS")
    assert limit_torch_threads() is None


def test_the_cap_refuses_a_kernel_before_starting_it():
    manager = ClassroomKernelManager(max_kernels=0)
    with pytest.raises(ClassFull) as refused:
        asyncio.run(manager.start_kernel(kernel_name="python3"))
    assert refused.value.status_code == 503 and "limit is 0" in refused.value.log_message
    assert manager.list_kernel_ids() == []


class FakeKernel:
    """A kernel manager's view of a kernel whose process has exited with ``code`` (``None``: still running)."""

    def __init__(self, code):
        self.provisioner = type("Provisioner", (), {"process": type("Process", (), {"poll": lambda _: code})()})()

    def cleanup_resources(self, restart=False):
        pass


def test_repair_drops_failed_refills_and_refills_below_the_cap():
    async def scenario():
        async def fails():
            raise ClassFull(3, 3)

        async def works():
            return {"kernel_id": "k"}

        failed, fine = asyncio.ensure_future(fails()), asyncio.ensure_future(works())
        await asyncio.gather(failed, fine, return_exceptions=True)
        manager = ClassroomKernelManager(max_kernels=5)
        manager._kernels = {"k": FakeKernel(None)}
        refills = []
        manager._pools = {"a.ipynb": [failed, fine], "b.ipynb": [fine]}
        manager.fill_if_needed = lambda delay, notebook_name: refills.append((delay, notebook_name))
        assert manager.repair_pools() == 1
        assert manager._pools == {"a.ipynb": [fine], "b.ipynb": [fine]} and refills == [(0, "a.ipynb")]
        manager.max_kernels = 0  # at the cap: drop, but do not refill
        manager._pools["b.ipynb"].append(failed)
        refills.clear()
        assert manager.repair_pools() == 1 and refills == []

    asyncio.run(scenario())



def test_a_stopping_server_starts_and_refills_no_kernel():
    """On main Voila's shutdown waited for every refill still queued: each started a kernel, ran its notebook and was
    stopped, past the service manager's grace, and wrote its connection file after the folder was removed."""

    async def scenario():
        async def fails():
            raise RuntimeError("a refill that failed")

        failed = asyncio.ensure_future(fails())
        await asyncio.gather(failed, return_exceptions=True)
        manager = ClassroomKernelManager(max_kernels=5)
        refills = []
        manager._pools = {"a.ipynb": [failed]}
        manager.fill_if_needed = lambda delay, notebook_name: refills.append(notebook_name)
        await manager.shutdown_all()
        assert manager.repair_pools() == 0 and refills == []
        for env in ({"VOILA_PREHEAT": "True"}, {}):  # a queued refill, and a student's page
            with pytest.raises(web.HTTPError) as refused:
                await manager.start_kernel(kernel_name="python3", env=env)
            assert refused.value.status_code == 503 and "shutting down" in refused.value.log_message
        assert manager.list_kernel_ids() == [] and manager._repair_task is None

    asyncio.run(scenario())

@pytest.fixture(scope="module")
def one_seat_server(tmp_path_factory):
    """Voila as configured, but with room for one kernel and no pre-heated pool (so the test controls the count)."""
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with voila_server(extra_args=["--ClassroomKernelManager.max_kernels=1"], log_path=log, preheat=False) as url:
        yield url


def test_a_full_class_gets_a_clear_page_and_a_seat_once_one_is_free(one_seat_server):
    url = dashboard_url(one_seat_server, "01_gru_cell.ipynb")
    status, first = fetch(url)
    assert status == 200
    status, refused = fetch(url)
    assert status == 503
    assert "The class is full" in refused and "Try again" in refused and "Traceback" not in refused
    assert "cdn" not in refused.lower() and "https://" not in refused  # the page works offline too
    shut_down(one_seat_server, page_kernel_id(first))  # the first student leaves
    status, again = fetch(url)
    assert status == 200 and "kernelId" in again
    shut_down(one_seat_server, page_kernel_id(again))


def test_students_cannot_run_code_through_the_kernel_websocket(one_seat_server, tmp_path):
    status, html = fetch(dashboard_url(one_seat_server, "01_gru_cell.ipynb"))
    assert status == 200
    kernel_id = page_kernel_id(html)
    marker = tmp_path / f"executed-{uuid.uuid4().hex}"

    async def student():
        socket = await KernelSocket.open(one_seat_server, kernel_id)
        try:
            # the channel works: widget messages (what the page needs) are answered ...
            states = await socket.widget_states()
            assert any(m["model_name"] == "FloatSliderModel" for m in states.values())
            # ... but code is not: Voila passes only comm and info messages to the kernel
            assert await socket.code_is_refused(f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')")
        finally:
            socket.close()

    asyncio.run(student())
    assert not marker.exists()
    shut_down(one_seat_server, kernel_id)


def test_the_memory_limit_is_sized_so_that_the_class_fits(monkeypatch):
    total_mb = __import__("os").sysconf("SC_PAGE_SIZE") * __import__("os").sysconf("SC_PHYS_PAGES") / 2**20
    manager = ClassroomKernelManager(max_kernels=4, memory_floor_mb=100)
    assert manager.kernel_memory_limit_mb() == int(0.9 * total_mb / 4)
    assert ClassroomKernelManager(max_kernels=10**6, memory_floor_mb=700).kernel_memory_limit_mb() == 700
    assert ClassroomKernelManager(memory_limit_mb=900).kernel_environment({})["GRUTOOLS_MEMORY_LIMIT_MB"] == "900"
    assert "GRUTOOLS_MEMORY_LIMIT_MB" not in ClassroomKernelManager(memory_limit_mb=-1).kernel_environment({})


def test_a_kernel_over_its_memory_limit_fails_alone_with_a_clear_message():
    import subprocess
    import sys

    script = """
import grutools.apps, torch
from grutools.apps.common import friendly_error
try:
    torch.ones(500_000_000)  # 2 GB
    print("allocated")
except RuntimeError as error:
    print(friendly_error(error))
print("alive", torch.ones(10).sum().item())
"""
    env = {**__import__("os").environ, "GRUTOOLS_MEMORY_LIMIT_MB": "800"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "needs more memory than the dashboard has (each dashboard may use 800 MB" in result.stdout
    assert "alive 10.0" in result.stdout and "allocated" not in result.stdout


def test_repair_replaces_a_dead_preheated_kernel():
    async def scenario():
        async def kernel(kernel_id):
            return {"kernel_id": kernel_id}

        alive, dead = asyncio.ensure_future(kernel("alive")), asyncio.ensure_future(kernel("dead"))
        await asyncio.gather(alive, dead)
        manager = ClassroomKernelManager(max_kernels=5)
        manager._kernels = {"alive": FakeKernel(None), "dead": FakeKernel(-9)}  # killed by SIGKILL
        refills = []
        manager._pools = {"a.ipynb": [alive, dead]}
        manager.fill_if_needed = lambda delay, notebook_name: refills.append(notebook_name)
        assert manager.repair_pools() == 1
        assert manager._pools == {"a.ipynb": [alive]} and refills == ["a.ipynb"]
        assert "dead" not in manager._kernels

    asyncio.run(scenario())


def test_repair_replaces_a_preheated_kernel_that_jupyter_client_restarted(tmp_path):
    """A killed kernel comes back under the same id, alive but empty: it must leave the pool, and its process go."""
    async def scenario():
        manager = ClassroomKernelManager(max_kernels=5, repair_interval=0, memory_limit_mb=-1,
                                         connection_dir=str(tmp_path))
        kernel_id = await manager.start_kernel(kernel_name="python3")
        try:
            first = manager.get_kernel(kernel_id).provisioner.process
            connection_file = Path(manager.get_kernel(kernel_id).connection_file)
            assert not manager._pool_kernel_dead({"kernel_id": kernel_id})  # alive and never restarted: kept
            first.kill()
            for _ in range(300):  # jupyter_client's restarter notices within a few seconds and starts a new process
                await asyncio.sleep(0.1)
                if kernel_id in manager._restarted:
                    break
            assert kernel_id in manager._restarted, "jupyter_client did not restart the killed kernel"
            for _ in range(100):  # the restart callback fires before the new process is in place
                await asyncio.sleep(0.1)
                second = manager.get_kernel(kernel_id).provisioner.process
                if second is not None and second is not first:
                    break
            assert second.poll() is None, "the restarted kernel should be alive, which is what made it look healthy"

            async def pooled():
                return {"kernel_id": kernel_id}

            task = asyncio.ensure_future(pooled())
            await task
            refills = []
            manager._pools = {"a.ipynb": [task]}
            manager.fill_if_needed = lambda delay, notebook_name: refills.append(notebook_name)
            assert manager.repair_pools() == 1
            assert manager._pools == {"a.ipynb": []} and refills == ["a.ipynb"]
            assert kernel_id not in manager and second.poll() is not None  # the empty kernel's process is gone
            for _ in range(50):
                await asyncio.sleep(0.1)
                if not connection_file.exists():
                    break
            assert not connection_file.exists(), "the replaced kernel's connection file was left behind"
        finally:
            if kernel_id in manager:
                await manager.shutdown_kernel(kernel_id, now=True)

    asyncio.run(scenario())


def test_a_preheated_kernel_that_dies_is_replaced_never_restarted_and_never_counted_ready(tmp_path):
    """A pre-heated kernel killed in its pool: no restart (none allowed from its start), its files gone, the pool
    counts it out and refills."""
    async def scenario():
        manager = ClassroomKernelManager(max_kernels=5, repair_interval=0, memory_limit_mb=-1,
                                         connection_dir=str(tmp_path))
        refills = []
        manager.fill_if_needed = lambda delay, notebook_name: refills.append(notebook_name)
        import os

        kernel_id = await manager.start_kernel(kernel_name="python3", env=dict(os.environ, VOILA_PREHEAT="True"))
        try:
            process = manager.get_kernel(kernel_id).provisioner.process
            connection_file = Path(manager.get_kernel(kernel_id).connection_file)
            activity = manager.get_kernel(kernel_id)._activity_stream  # jupyter_server's watch of its iopub

            async def pooled():
                return {"kernel_id": kernel_id}

            task = asyncio.ensure_future(pooled())
            await task
            starting = asyncio.ensure_future(asyncio.sleep(30))  # a refill still starting: not ready for a student
            manager._pools = {"a.ipynb": [starting, task]}
            assert manager.ready_in_pool("a.ipynb") == 1  # the started one; the refill still starting is not ready
            # never restarted, from its start: a refill killed while it ran its notebook was restarted by
            # jupyter_client (benchmarks/recovery.py found it), then replaced by the repair as well
            assert manager.get_kernel(kernel_id)._restarter.restart_limit == 0
            manager.ready_first("a.ipynb")
            assert manager._pools["a.ipynb"][0] is task  # Voilà hands out the first: the ready one
            process.kill()
            process.wait()
            assert manager.ready_in_pool("a.ipynb") == 0  # found dead at once, before the restarter's next look
            assert manager._pools["a.ipynb"] == [starting] and refills == ["a.ipynb"]
            for _ in range(100):  # jupyter_client's restarter looks every few seconds: it must not restart it
                await asyncio.sleep(0.1)
            assert kernel_id not in manager._restarted and kernel_id not in manager
            # its iopub socket closed: left open, each dead kernel kept a descriptor in the server for good, and
            # the manager's zmq context then hung the process when it was garbage-collected (term() waits for it)
            assert activity.closed()
            for _ in range(50):
                if not connection_file.exists():
                    break
                await asyncio.sleep(0.1)
            assert not connection_file.exists(), "the dead kernel's connection file was left behind"
            starting.cancel()
        finally:
            if kernel_id in manager:
                await manager.shutdown_kernel(kernel_id, now=True)

    asyncio.run(scenario())


def test_voilas_pool_manager_counts_only_ready_kernels(tmp_path):
    """Voilà builds its pool manager on ours: its page handler must see ready kernels only."""
    from traitlets.config import Configurable
    from voila.voila_kernel_manager import voila_kernel_manager_factory

    class VoilaApp(Configurable):  # what Voilà's manager reads of its parent: a folder with no notebook to pre-heat
        root_dir, notebook_path = str(tmp_path), None

    voila_manager = voila_kernel_manager_factory(ClassroomKernelManager, preheat_kernel=True, default_pool_size=1)
    assert voila_manager.get_pool_size.__doc__ == ClassroomKernelManager.ready_in_pool.__doc__

    async def scenario():
        async def pooled():
            return {"kernel_id": "k"}

        manager = voila_manager(parent=VoilaApp(), max_kernels=5, repair_interval=0)  # built whole, as Voilà does
        ready, starting = asyncio.ensure_future(pooled()), asyncio.ensure_future(asyncio.sleep(30))
        await ready
        manager._pools = {"a.ipynb": [starting, ready]}
        manager._kernels = {"k": FakeKernel(None)}
        manager.fill_if_needed = lambda **kwargs: None
        assert voila_manager.get_pool_size(manager, "a.ipynb") == 1
        starting.cancel()

    asyncio.run(scenario())


def test_a_student_at_the_cap_takes_the_seat_of_a_kernel_preheated_for_another_dashboard(tmp_path):
    """The soak's 503s: pools for every dashboard held the last seats. Two seats, both pre-heated for 00;
    a student who opens 01 gets a page (a pre-heated 00 kernel makes way), not "the class is full"; and the
    pages close cleanly although the 00 pool's refill failed at the cap (Voilà's shutdown raised that failure: 503)."""
    pools = {"default": {"pool_size": 0}, "00_welcome.ipynb": {"pool_size": 2}}
    args = ["--ClassroomKernelManager.max_kernels=2", "--VoilaKernelManager.kernel_pools_config=" + json.dumps(pools)]
    log = tmp_path / "voila.log"
    with voila_server(extra_args=args, log_path=log) as url:
        deadline = time.monotonic() + 180
        while len(kernel_processes(url.pid)) < 2 and time.monotonic() < deadline:  # both pool kernels started
            time.sleep(1)
        wait_until_idle()  # and have run their notebook: ready for a student
        status, page = fetch(dashboard_url(url, "01_gru_cell.ipynb"))
        assert status == 200 and "kernelId" in page, f"HTTP {status}: the student was turned away at the cap"
        assert "shut down for a student" in log.read_text()
        status, second = fetch(dashboard_url(url, "00_welcome.ipynb"))  # the other pre-heated kernel is still there
        assert status == 200 and "kernelId" in second
        shut_down(url, page_kernel_id(page))
        shut_down(url, page_kernel_id(second))
        deadline = time.monotonic() + 120  # the seats are free again: the repair refills the pool that made way
        while len(kernel_processes(url.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        assert len(kernel_processes(url.pid)) == 2, "the pool that gave up a kernel was not refilled"


def test_refills_waiting_for_their_turn_hold_no_seat_and_a_student_gets_one(tmp_path):
    """The soak's 503s as a class arrived: every pre-heated kernel a student took queued a refill, and each queued
    refill counted against the cap while it waited for the one start slot. With one seat and three refills queued
    behind a running one, a student gets the seat; the refills, once their turn comes, find the cap and start nothing."""

    async def scenario():
        manager = ClassroomKernelManager(max_kernels=1, refill_concurrency=1, student_priority_s=0,
                                         repair_interval=0, memory_limit_mb=-1)
        manager.connection_dir = str(tmp_path)
        manager._refill_slots = asyncio.Semaphore(1)
        await manager._refill_slots.acquire()  # a refill is running its notebook: the others wait for the slot
        queued = [asyncio.ensure_future(manager.start_kernel(kernel_name="python3", env={"VOILA_PREHEAT": "True"}))
                  for _ in range(3)]
        await asyncio.sleep(0.2)
        assert not any(task.done() for task in queued) and manager.live_kernels == 0
        kernel_id = await manager.start_kernel(kernel_name="python3")  # the student: not "the class is full"
        try:
            assert manager.list_kernel_ids() == [kernel_id]
            manager._refill_slots.release()  # the running refill is done: the queue moves, one at a time
            results = await asyncio.wait_for(asyncio.gather(*queued, return_exceptions=True), 30)
            assert all(isinstance(result, ClassFull) for result in results), results
            assert manager.list_kernel_ids() == [kernel_id] and manager.live_kernels == 1
            assert not manager._refill_slots.locked()  # every refill turned away gave its slot back
        finally:
            await manager.shutdown_kernel(kernel_id, now=True)

    asyncio.run(scenario())
