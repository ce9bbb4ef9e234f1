"""The "take it away" box under a dashboard's training: download the trained model, and the code of its run."""

from __future__ import annotations

import base64
import html

import ipywidgets as widgets

from ..core.models import SequenceModel
from ..core.tasks import Task
from ..core.training import History
from ..plots import NAMES
from ..yours.takeaway import reproduction_code, save_bytes

MAX_DOWNLOAD = 20 * 2**20  # a data: link this large would strain the page; bigger models are saved from Python


class TakeAway(widgets.HTML):
    """Download links (grutools save files, straight from the kernel's memory) and the Python that reproduces the run.

    Call :meth:`show` after a run; the links are ``data:`` URLs, so nothing is written on the
    server and the file is gone with the kernel.
    """

    def __init__(self) -> None:
        super().__init__(value="", layout=widgets.Layout(width="100%"))
        self.code = ""

    def show(self, task: Task, runs: list[tuple[SequenceModel, History]], stem: str) -> None:
        """Offer each run's model for download as ``{stem}_{cell}.pt``, with the code that reproduces them."""
        links = []
        for model, history in runs:
            data = save_bytes(model, history, metadata={"task": task.name, "length": task.length})
            name = f"{stem}_{model.cell}.pt"
            if len(data) > MAX_DOWNLOAD:
                links.append(f"{html.escape(NAMES[model.cell])}: too large to download from the page "
                             f"({len(data) / 2**20:.0f} MB); run the code below and save it in Python.")
                continue
            href = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
            links.append(f'<a download="{name}" href="{href}" style="font-weight:bold">Download the trained '
                         f"{html.escape(NAMES[model.cell])}</a> ({name}, {len(data) / 1024:.0f} KB)")
        self.code = reproduction_code(task, runs, filename=f"{stem}_{runs[-1][0].cell}.pt")
        self.value = (
            '<details class="grutools-takeaway" style="margin:6px 0;font-size:14px"><summary style="cursor:pointer">'
            "<b>Take it away:</b> download the model, or the code that trains it again</summary>"
            f'<p style="margin:6px 0">{" · ".join(links)}. Open it in Python with '
            "<code>grutools.load(path).model</code>.</p>"
            '<p style="margin:6px 0">The same run, in Python (same task, sizes, seed and steps: the same loss '
            "curve):</p>"
            '<pre style="background:#f6f8fa;padding:8px 12px;overflow-x:auto;font-size:13px;line-height:1.35;'
            f'white-space:pre;font-family:monospace;margin:4px 0">{html.escape(self.code)}</pre>'
            "</details>")

    def clear(self) -> None:
        self.value, self.code = "", ""
