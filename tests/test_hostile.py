"""A hostile page: widget messages sent over the real kernel websocket, exactly as a page speaks to it.

Every control of every dashboard gets out-of-range, ill-typed and bounds-changing
updates; the kernel must refuse each one, keep every control's state, stay small,
and still answer a normal slider move. (``grutools.apps.guard`` does the refusing.)
"""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.request import urlopen

import pytest

from grutools.testing.kernel_socket import KernelSocket, page_kernel_id
from grutools.testing.serving import (
    dashboard_url,
    kernel_processes,
    notebook_names,
    process_memory,
    voila_server,
)

MEMORY_CEILING_MB = 900  # RSS of a dashboard kernel; the unguarded kernel reached 1,270 MB with one message
NUMBERS = {"IntSliderModel", "FloatSliderModel", "BoundedIntTextModel", "BoundedFloatTextModel", "IntTextModel",
           "FloatTextModel", "FloatLogSliderModel"}
CHOICES = {"DropdownModel", "ToggleButtonsModel", "SelectionSliderModel", "RadioButtonsModel", "SelectModel"}
BOOLS = {"CheckboxModel", "ToggleButtonModel"}
KEPT = ("value", "index", "min", "max", "step", "options", "_options_labels", "disabled", "description", "layout",
        "selected_index", "children", "accept", "multiple", "placeholder", "autoplay", "loop", "format", "max_seconds",
        "presses", "source", "key")


def hostile_updates(model_name: str, state: dict) -> list[dict]:
    """What a curious student with the developer tools open might send to this control."""
    common = [{"disabled": not state.get("disabled", False)}, {"description": "hacked"},
              {"layout": "IPY_MODEL_" + uuid.uuid4().hex}, {}]
    if model_name in NUMBERS:
        low, high = state.get("min", 0), state.get("max", 100)
        return common + [
            {"value": high + 100 * (abs(high - low) + 1)}, {"value": low - 1000}, {"value": "twenty"},
            {"value": None}, {"value": [1, 2]}, {"value": True}, {"value": float("nan")},
            {"max": high * 100 + 40000, "value": high * 50 + 20000}, {"min": -(10 ** 9)}, {"step": 0},
        ]
    if model_name in CHOICES:
        count = len(state.get("_options_labels", []))
        return common + [{"index": count + 5}, {"index": -1}, {"index": "a"}, {"index": None},
                         {"_options_labels": [str(i) for i in range(100_000)], "index": 99_999}]
    if model_name in BOOLS:
        return common + [{"value": "yes"}, {"value": 1}]
    if model_name in ("TextModel", "TextareaModel"):
        return common + [{"value": "x" * 100_000}, {"value": 5}, {"placeholder": "hacked"}]
    if model_name == "FileUploadModel":  # dashboard 06: files arrive as a list of dicts with their bytes
        return common + [{"value": "a file"}, {"value": [{"name": "a.pt"}] * 5}, {"value": [{"name": 5, "content": "x"}]},
                         {"value": [{"name": "a.csv", "content": "text, not bytes", "run": "code"}]},
                         {"accept": ".exe"}, {"multiple": True}]
    if model_name == "AudioModel":  # dashboard 09's player: the kernel sets what it plays, never the page
        return common + [{"value": "a sound"}, {"autoplay": True}, {"loop": True}, {"format": "exe"}]
    if model_name == "AnyModel" and "presses" in state:  # a question's Commit: the next press, with an allowed value
        press = state["presses"] + 1
        return common + [{"presses": press, "value": 10 ** 9}, {"presses": press, "value": "0.5"},
                         {"presses": press, "value": None}, {"presses": press + 5}, {"presses": -1}, {"presses": True},
                         {"source": "IPY_MODEL_" + uuid.uuid4().hex}, {"key": "description"}, {"_esm": "alert(1)"}]
    if model_name == "AnyModel":  # dashboard 09's microphone button: it may send a recording's bytes, nothing else
        return common + [{"wav": "not bytes"}, {"wav": None}, {"wav": [1, 2, 3]}, {"max_seconds": 10 ** 6},
                         {"_esm": "alert(1)"}]
    if model_name == "AccordionModel":
        return common + [{"selected_index": 9}, {"children": []}]
    if model_name in {"HTMLModel", "IntProgressModel", "HBoxModel", "VBoxModel", "ButtonModel", "LayoutModel"}:
        return common + [{"value": "<script>alert(1)</script>" * 1000}, {"children": []}, {"width": "99999px"}]
    return []


def comparable(state: dict) -> dict:
    return {key: state[key] for key in KEPT if key in state}


def send_update(socket: KernelSocket, comm_id: str, state: dict) -> str:
    """Send a widget update as the page does; returns its message id (the kernel handles them in order)."""
    return socket.send("comm_msg", {"comm_id": comm_id, "data": {"method": "update", "state": state,
                                                                  "buffer_paths": []}})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with voila_server(preheat=False, log_path=log) as url:
        yield url


@pytest.mark.parametrize("notebook", notebook_names())
def test_a_hostile_page_changes_nothing_and_the_kernel_still_answers(server, notebook):
    with urlopen(dashboard_url(server, notebook), timeout=180) as response:  # noqa: S310 (localhost)
        kernel_id = page_kernel_id(response.read().decode())

    async def student():
        socket = await KernelSocket.open(server, kernel_id)
        try:
            before = await socket.widget_states()
            sent = 0
            for comm_id, model in before.items():
                for update in hostile_updates(model["model_name"], model["state"]):
                    send_update(socket, comm_id, json.loads(json.dumps(update)))
                    sent += 1
                if model["model_name"] == "ButtonModel" and model["state"].get("disabled"):
                    # a click on a disabled button (Stop, Back...) must not run its handler
                    socket.send("comm_msg", {"comm_id": comm_id, "data": {"method": "custom",
                                                                          "content": {"event": "click"}}})
                    sent += 1
            assert sent > 20
            # a page may not create widgets in the kernel either
            msg_id = socket.send("comm_open", {"comm_id": uuid.uuid4().hex, "target_name": "jupyter.widget",
                                               "data": {"state": {"_model_name": "IntSliderModel", "value": 10 ** 9}}})
            await socket.idle_after(msg_id, timeout=120)  # and so after every message before it
            after = await socket.widget_states()
            assert set(after) == set(before), "a widget was created or closed by the page"
            for comm_id, model in before.items():
                if "grutools-status" in str(model["state"].get("value")) + str(after[comm_id]["state"].get("value")):
                    continue  # a status line: it now says what was refused
                assert comparable(after[comm_id]["state"]) == comparable(model["state"]), (
                    f"{model['model_name']} {model['state'].get('description', '')!r} was changed by the page")
            refusals = [m["state"]["value"] for m in after.values()
                        if m["model_name"] == "HTMLModel" and "was refused" in m["state"].get("value", "")]
            assert refusals, "no status line said that a change was refused"
            assert "Traceback" not in " ".join(refusals)
            for pid in kernel_processes(server.pid):
                rss, _ = process_memory(pid)
                assert rss < MEMORY_CEILING_MB, f"a kernel grew to {rss:.0f} MB"
            # a normal move is still taken: the first slider to a value inside its bounds (or, on a page without
            # sliders, the first menu to another of its choices)
            sliders = [(c, m) for c, m in before.items()
                       if m["model_name"] in ("IntSliderModel", "FloatSliderModel") and not m["state"].get("disabled")]
            if sliders:
                comm_id, model = sliders[0]
                state = model["state"]
                key, target = "value", state["min"] if state["value"] != state["min"] else state["max"]
            else:
                comm_id, model = next((c, m) for c, m in before.items() if m["model_name"] == "DropdownModel"
                                      and len(m["state"].get("_options_labels", [])) > 1)
                key, target = "index", 1 if model["state"]["index"] != 1 else 0
            await socket.idle_after(send_update(socket, comm_id, {key: target}), timeout=120)
            moved = await socket.widget_states()
            assert moved[comm_id]["state"][key] == target
            assert not socket.kernel_errors, socket.kernel_errors
        finally:
            socket.close()

    asyncio.run(student())
