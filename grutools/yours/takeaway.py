"""Take a model trained live away: a grutools save file to download, and the Python that reproduces the run.

* :func:`save_bytes`: the save file (:func:`grutools.save`) as bytes, to hand to a browser.
* :func:`reproduction_code`: a few lines of Python that rebuild the same task and model
  (sizes, seed, chrono, recurrent scale) and train it through :func:`grutools.train` with
  the same settings and steps, so the same loss curve comes out.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..core.io import save
from ..core.models import SequenceModel
from ..core.tasks import Task
from ..core.training import History

MODEL_KEYS = ("input_size", "output_size", "readout")  # what task.model_kwargs() supplies


def save_bytes(model: SequenceModel, history: History | None = None, metadata: dict | None = None) -> bytes:
    """The grutools save file of ``model`` (and its ``history``) as bytes; :func:`grutools.load` reads it back."""
    with tempfile.TemporaryDirectory(prefix="grutools-download-") as folder:
        path = save(Path(folder) / "model.pt", model=model, history=history, metadata=metadata)
        return path.read_bytes()


def _task_expression(task: Task) -> str:
    return f"grutools.core.tasks.{task!r}"


def _model_lines(config: dict, settings: dict, variable: str = "model") -> list[str]:
    arguments = [repr(config["cell"]), f"hidden_size={config['hidden_size']}"]
    if config.get("num_layers", 1) != 1:
        arguments.append(f"num_layers={config['num_layers']}")
    arguments.append(f"seed={settings.get('seed', 0)}")
    if config.get("chrono") is not None:
        arguments.append(f"chrono={config['chrono']!r}")
    lines = [f"{variable} = grutools.SequenceModel({', '.join(arguments)}, **task.model_kwargs())"]
    if settings.get("scale", 1.0) != 1.0:
        lines.append(f"grutools.lessons.vanishing.scale_recurrent({variable}, {settings['scale']!r})  # recurrent weights "
                     f"x{settings['scale']:g}")
    return lines


def _train_line(history: History, settings: dict, variable: str = "model") -> str:
    arguments = [f"steps={len(history.loss)}", f"lr={settings.get('lr', 1e-2)!r}",
                 f"batch_size={settings.get('batch_size', 64)}", f"seed={settings.get('seed', 0)}",
                 f"clip_grad={settings.get('clip_grad', 1.0)!r}"]
    if settings.get("snapshot_every"):
        arguments.append(f"snapshot_every={settings['snapshot_every']}")
    return f"history = grutools.train({variable}, task, {', '.join(arguments)})"


def reproduction_code(task: Task, runs: list[tuple[SequenceModel, History]], filename: str = "my_gru.pt") -> str:
    """Python that reproduces each of ``runs`` (a model and its history, trained on ``task``) and saves the last.

    Each run's model is rebuilt from its config and seed, then trained with the
    settings its history recorded, for as many steps as it really took (a stopped
    run reproduces up to where it stopped).
    """
    if not runs:
        raise ValueError("there is no trained model to reproduce yet.")
    lines = ["import grutools", "import grutools.lessons.vanishing", "", f"task = {_task_expression(task)}"]
    for model, history in runs:
        settings = dict(history.settings)
        if len(runs) > 1:
            lines += ["", f"# the {model.cell.upper() if model.cell != 'rnn' else 'tanh RNN'}"]
        lines += _model_lines(model.config, settings)
        lines.append(_train_line(history, settings))
        lines.append("print(f\"final loss {history.final_loss:.4f} after {len(history.loss)} steps\")")
    if "grutools.lessons.vanishing.scale_recurrent" not in "\n".join(lines):
        lines.remove("import grutools.lessons.vanishing")
    lines += ["", f"grutools.save({filename!r}, model=model, history=history)"]
    return "\n".join(lines) + "\n"
