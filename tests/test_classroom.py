"""Classroom serving: the kernel cap and its 'class is full' page, pool repair, threads, and no code execution."""

import asyncio
import json
import uuid
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from grutools.classroom import ClassFull, ClassroomKernelManager, limit_torch_threads
from grutools.serving import KernelSocket, dashboard_url, page_kernel_id, shutdown_request, voila_server

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
    manager = ClassroomKernelManager(torch_threads=1)
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


def test_repair_drops_failed_refills_and_refills_below_the_cap():
    async def scenario():
        async def fails():
            raise ClassFull(3, 3)

        async def works():
            return {"kernel_id": "k"}

        failed, fine = asyncio.ensure_future(fails()), asyncio.ensure_future(works())
        await asyncio.gather(failed, fine, return_exceptions=True)
        manager = ClassroomKernelManager(max_kernels=5)
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


@pytest.fixture(scope="module")
def one_seat_server(tmp_path_factory):
    """Voila as configured, but with room for one kernel and no pre-heated pool (so the test controls the count)."""
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    args = ["--VoilaConfiguration.preheat_kernel=False", "--ClassroomKernelManager.max_kernels=1"]
    with voila_server(extra_args=args, log_path=log) as url:
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
