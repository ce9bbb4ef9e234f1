"""grutools: train GRUs (and RNNs and LSTMs for contrast) and see what happens inside.

The public API::

    SequenceModel                      a recurrent core plus a linear head
    trace(model, x, rnn=None)          every gate and state of any model's GRU/LSTM/RNN -> Trace
    explore(model, x, y=, loss=)       the gate views of the dashboards, for your own model and data
    gradient_norms(model, x, y)        |dLoss/dh_t| through time
    AddingProblem, CopyTask, Sunspots  tasks; make_task(name, length)
    train(model, task, ...)            -> History; TrainingDiverged
    save(path, model, history), load(path) -> Checkpoint; load_gru(path)
"""

from .equations import gru_step, lstm_step, parameter_count, rnn_step
from .explore import explore
from .gradients import gradient_norms
from .io import Checkpoint, load, save
from .models import SequenceModel
from .tasks import AddingProblem, CopyTask, Sunspots, Task, make_task
from .trace import Trace, trace
from .training import History, TrainingDiverged, evaluate, train
from .uploads import load_gru

__version__ = "0.1.0"

__all__ = [
    "AddingProblem", "Checkpoint", "CopyTask", "History", "SequenceModel", "Sunspots", "Task", "Trace",
    "TrainingDiverged", "evaluate", "explore", "gradient_norms", "gru_step", "load", "load_gru", "lstm_step", "make_task",
    "parameter_count", "rnn_step", "save", "trace", "train",
]
