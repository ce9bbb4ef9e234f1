"""grutools: train GRUs (and RNNs and LSTMs for contrast) and see what happens inside.

The public API::

    SequenceModel                      a recurrent core plus a linear head
    FastGRU                            the fused CPU GRU kernel, in place of torch.nn.GRU
    trace(model, x, rnn=None)          every gate and state of any model's GRU/LSTM/RNN -> Trace
    explore(model, x, y=, loss=)       the gate views of the dashboards, for your own model and data
    gradient_norms(model, x, y)        |dLoss/dh_t| through time
    AddingProblem, CopyTask, Sunspots  tasks; make_task(name, length)
    train(model, task, ...)            -> History; TrainingDiverged
    save(path, model, history), load(path) -> Checkpoint; load_gru(path)

The package is in wings, one job each (docs/architecture.md):

    grutools.core        the recurrent machinery: equations, models, FastGRU, trace, training, tasks, files
    grutools.lessons     the science of each dashboard, one module per lesson
    grutools.yours       your own model on your own sequences (explore, uploads, take-away code)
    grutools.plots       pure figure builders (plotly)
    grutools.apps        the widget apps, one per dashboard (ipywidgets)
    grutools.classroom   serving a class: kernel manager, `grutools serve`, Voila app, template, hub, export
    grutools.testing     not the product: the Voila + Chromium harness of the tests and benchmarks
"""

from .core.equations import gru_step, lstm_step, parameter_count, rnn_step
from .core.fast import FastGRU
from .core.gradients import gradient_norms
from .core.io import Checkpoint, load, save
from .core.models import SequenceModel
from .core.tasks import AddingProblem, CopyTask, Sunspots, Task, make_task
from .core.trace import Trace, trace
from .core.training import History, TrainingDiverged, evaluate, train
from .yours.uploads import load_gru

__version__ = "0.1.0"

__all__ = [
    "AddingProblem", "Checkpoint", "CopyTask", "FastGRU", "History", "SequenceModel", "Sunspots", "Task", "Trace",
    "TrainingDiverged", "evaluate", "explore", "gradient_norms", "gru_step", "load", "load_gru", "lstm_step", "make_task",
    "parameter_count", "rnn_step", "save", "trace", "train",
]


def __getattr__(name: str):
    """``grutools.explore``, imported on first use: it is a widget app, and ``import grutools`` needs no widgets."""
    if name == "explore":
        from .apps.explore import explore

        return explore
    raise AttributeError(f"module 'grutools' has no attribute {name!r}")
