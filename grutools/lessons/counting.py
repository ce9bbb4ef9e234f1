"""What a GRU cannot do: count. The aⁿbⁿ task, recognition over n, and a hand-built LSTM that counts.

Weiss, Goldberg & Yahav (2018, "On the practical computational power of finite precision
RNNs") show that an LSTM can recognise aⁿbⁿ by counting in its cell state, which is not
squashed, while a GRU's state lives in [-1, 1] and cannot hold an unbounded count.

* :class:`CountingTask`: aⁿbⁿ as **next-symbol prediction** (Gers & Schmidhuber 2001).
  While the a's come, the next symbol may be a or b: not scored. From the first b on, it
  is determined: "b" while b's remain, "end" after the n-th. A model **recognises** aⁿbⁿ
  when every one of those n predictions is right.
* :func:`recognised`: which n in a range a model recognises; :func:`largest_recognised`:
  the largest n up to which it recognises every n (its reach).
* :func:`counting_lstm`: an LSTM with weights set by hand that counts in its cell state
  (+1 per a, -1 per b) and so recognises any n: the task can be solved.
* :func:`counting_study`: train a GRU and an LSTM of equal size on n <= N over seeds and
  measure their reach on longer n (shipped in ``data/results/counting.json``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..core.models import CELL_NAMES, SequenceModel
from ..core.tasks import DATA_DIR, IGNORE, Task
from ..core.training import Trainer

MORE, END = 0, 1  # the classes predicted at every b: another b follows, or the string ends
COUNTING_RESULTS = DATA_DIR / "results" / "counting.json"
COUNTING_COMMAND = "python -m grutools counting-study --out data/results/counting.json --checkpoints data/checkpoints"
CHECKPOINTS = {cell: DATA_DIR / "checkpoints" / f"anbn_{cell}.pt" for cell in ("gru", "lstm")}


class CountingTask(Task):
    """aⁿbⁿ as next-symbol prediction: n a's then n b's; at each b, predict "another b" or "end".

    Inputs are one-hot ``[a, b]`` per step, zero after the string ends (padding);
    targets are ``MORE`` (0) or ``END`` (1) at the b steps and ``-100`` (not scored)
    elsewhere. Training draws n uniformly from 1 to ``max_n``; :meth:`strings` gives
    chosen n's, e.g. longer ones than were trained on.
    """

    name = "anbn"
    title = "Counting (aⁿbⁿ)"
    readout = "all"
    input_size = 2
    output_size = 2
    min_length = 2
    description = ("n a's, then n b's. At every b the model predicts whether another b follows or the string ends: "
                   "it must count the a's. Strings with n up to the training maximum are seen in training; longer "
                   "ones test whether it learned to count or only memorised lengths.")
    baseline_label = "guess (cross-entropy ln 2 = 0.69)"

    def __init__(self, max_n: int = 20) -> None:
        if not isinstance(max_n, int) or isinstance(max_n, bool) or not 1 <= max_n <= 10_000:
            raise ValueError(f"aⁿbⁿ: the largest training n must be an integer from 1 to 10000; got {max_n!r}.")
        self.max_n = max_n
        super().__init__(2 * max_n)

    @property
    def baseline(self) -> float:
        return float(np.log(2))

    @staticmethod
    def strings(ns: Sequence[int] | Tensor, length: int | None = None) -> tuple[Tensor, Tensor]:
        """The strings aⁿbⁿ for each n of ``ns``, padded to ``length`` (default 2 max(n)): ``(x, y)``."""
        ns = torch.as_tensor(ns, dtype=torch.long).reshape(-1)
        if len(ns) == 0 or int(ns.min()) < 1:
            raise ValueError("every n of aⁿbⁿ must be at least 1.")
        length = length or 2 * int(ns.max())
        if length < 2 * int(ns.max()):
            raise ValueError(f"a length of {length} steps cannot hold aⁿbⁿ with n = {int(ns.max())}.")
        steps = torch.arange(length)[None, :]
        n = ns[:, None]
        is_a, is_b = steps < n, (steps >= n) & (steps < 2 * n)
        x = torch.stack([is_a, is_b], dim=-1).float()
        y = torch.full((len(ns), length), IGNORE, dtype=torch.long)
        y[is_b] = MORE
        y[steps == 2 * n - 1] = END
        return x, y

    def sample(self, batch_size, generator=None, seed=None, split="train"):
        gen = generator if generator is not None else torch.Generator().manual_seed(0 if seed is None else seed)
        ns = torch.randint(1, self.max_n + 1, (batch_size,), generator=gen)
        return self.strings(ns, self.length)

    def step_labels(self, x) -> list[str]:
        rows = x.tolist() if hasattr(x, "tolist") else [list(r) for r in x]
        return ["a" if r[0] > 0.5 else "b" if r[1] > 0.5 else "(end)" for r in rows]

    def __repr__(self) -> str:
        return f"CountingTask(max_n={self.max_n})"


@torch.no_grad()
def recognised(model: SequenceModel, ns: Sequence[int]) -> np.ndarray:
    """For each n of ``ns``: does ``model`` predict every b step of aⁿbⁿ right? A boolean array."""
    ns = list(ns)
    x, y = CountingTask.strings(ns)
    prediction = model(x).argmax(-1)
    scored = y != IGNORE
    return ((prediction == y) | ~scored).all(1).numpy()


def reach(ok: np.ndarray) -> int:
    """From ``recognised`` over n = 1, 2, ...: the largest n up to which every n is recognised (0 if not n = 1)."""
    ok = np.asarray(ok, dtype=bool)
    return int(len(ok) if ok.all() else np.argmin(ok))


def largest_recognised(model: SequenceModel, up_to: int = 200) -> int:
    """The largest n such that ``model`` recognises aᵐbᵐ for every m from 1 to n (0 if not even n = 1)."""
    return reach(recognised(model, range(1, up_to + 1)))


def counting_lstm(slope: float = 20.0) -> SequenceModel:
    """An LSTM of one unit whose weights are set by hand so that it counts, and so recognises aⁿbⁿ for any n.

    Input, forget and output gates are held open (bias ``slope``: σ = 1 in float32);
    the cell input is tanh(+slope) = +1 for an a and tanh(-slope) = -1 for a b, so the
    cell state c is #a − #b, exactly, for as long as float32 counts integers (2²⁴).
    The head reads h = tanh(c): "another b" when c >= 1 (h >= 0.76), "end" when c = 0.
    """
    model = SequenceModel("lstm", input_size=2, hidden_size=1, output_size=2, readout="all")
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        core = model.core
        core.bias_ih_l0[:] = torch.tensor([slope, slope, 0.0, slope])  # input, forget, cell, output
        core.weight_ih_l0[2] = torch.tensor([slope, -slope])  # the cell input: +1 for a, -1 for b
        model.head.weight[:] = torch.tensor([[10.0], [-10.0]])
        model.head.bias[:] = torch.tensor([-3.8, 3.8])  # MORE when 20 h > 7.6, i.e. c >= 1
    return model


def train_counter(cell: str, max_n: int = 20, hidden_size: int = 8, steps: int = 1500, seed: int = 0,
                  lr: float = 1e-2, batch_size: int = 32, stop=None, callback: Callable | None = None) -> SequenceModel:
    """Train a ``cell`` model on aⁿbⁿ with n from 1 to ``max_n``; ``callback(step, loss)`` every 50 steps."""
    task = CountingTask(max_n)
    model = SequenceModel(cell, hidden_size=hidden_size, seed=seed, **task.model_kwargs())
    trainer = Trainer(model, task, lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for step in range(1, steps + 1):
        if stop is not None and stop.is_set():
            break
        loss = trainer.step(*task.sample(batch_size, generator=generator))
        if callback is not None and (step % 50 == 0 or step == steps):
            callback(step, loss)
    trainer.finish(stopped=stop is not None and stop.is_set())
    model.history = trainer.history
    return model


def counting_study(seeds: Sequence[int] = (0, 1, 2, 3, 4), max_n: int = 20, hidden_size: int = 8, steps: int = 1500,
                   test_up_to: int = 200, out: str | Path | None = None, progress: bool = True,
                   checkpoints: str | Path | None = None) -> dict:
    """Train a GRU and an LSTM of equal hidden size on n <= ``max_n`` over seeds; their reach on n up to ``test_up_to``.

    Each run records the largest n up to which every n is recognised, which n's are
    recognised, the final training loss and the seconds it took. Written to ``out`` as JSON;
    the first seed's two models are saved to ``checkpoints/anbn_{cell}.pt`` when given
    (dashboard 04 opens them).
    """
    runs = []
    for seed in seeds:
        for cell in ("gru", "lstm"):
            start = time.perf_counter()
            model = train_counter(cell, max_n=max_n, hidden_size=hidden_size, steps=steps, seed=seed)
            ok = recognised(model, range(1, test_up_to + 1))
            run = {"cell": cell, "seed": seed, "reach": reach(ok),
                   "recognised": [int(n) for n in np.flatnonzero(ok) + 1],
                   "final_loss": round(float(np.mean(model.history.loss[-50:])), 6),
                   "parameters": model.parameter_count(), "seconds": round(time.perf_counter() - start, 1)}
            runs.append(run)
            if checkpoints is not None and seed == seeds[0]:
                from ..core.io import save

                save(Path(checkpoints) / f"anbn_{cell}.pt", model, history=model.history,
                     metadata={"task": "anbn", "max_n": max_n, "reach": run["reach"], "seed": seed})
            if progress:
                print(f"{cell:5} seed {seed}: recognises every n up to {run['reach']} "
                      f"({len(run['recognised'])} of 1..{test_up_to}), {run['seconds']} s", flush=True)
    data = {"settings": {"max_n": max_n, "hidden_size": hidden_size, "steps": steps, "test_up_to": test_up_to,
                         "seeds": list(seeds), "batch_size": 32, "lr": 1e-2}, "runs": runs}
    if out is not None:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1) + "\n")
    return data


def read_counting(path: str | Path = COUNTING_RESULTS) -> dict:
    """Read a JSON file written by :func:`counting_study`."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or not {"settings", "runs"} <= set(data):
        raise ValueError(f"{path} is not a counting study written by grutools (no 'settings'/'runs').")
    return data


@torch.no_grad()
def counting_states(model: SequenceModel, n: int) -> tuple[np.ndarray, int, float]:
    """Along aⁿbⁿ: the states that could count, ``(2n, units)`` (an LSTM's cell state c, a GRU's or RNN's h), the
    unit that follows the count #a − #b best, and its |correlation| with the count."""
    from ..core.trace import trace

    x, _ = CountingTask.strings([n])
    traced = trace(model.core, x)
    states = (traced.cell if traced.kind == "lstm" else traced.hidden)[-1, 0].numpy()
    count = np.concatenate([np.arange(1, n + 1), np.arange(n - 1, -1, -1)]).astype(float)
    correlations = np.array([abs(np.corrcoef(states[:, u], count)[0, 1]) if states[:, u].std() > 1e-12 else 0.0
                             for u in range(states.shape[1])])
    best = int(np.nanargmax(np.nan_to_num(correlations)))
    return states, best, float(correlations[best])


def study_findings(data: dict) -> list[str]:
    """What the shipped study shows, read from its numbers: each model's reach over seeds against the training range."""

    settings = data["settings"]
    max_n, up_to = settings["max_n"], settings["test_up_to"]
    reach = {cell: np.array([r["reach"] for r in data["runs"] if r["cell"] == cell]) for cell in ("gru", "lstm")}
    sentences = []
    for cell, values in reach.items():
        if not len(values):
            continue
        beyond = int(np.sum(values > max_n))
        far = int(np.sum(values >= 2 * max_n))
        sentences.append(
            f"{CELL_NAMES[cell]}: recognises every n up to {values.min()}-{values.max()} (median {np.median(values):g}) "
            f"over {len(values)} seeds; {beyond} of {len(values)} seeds get past the training range n <= {max_n}, "
            f"{far} reach twice it.")
    if len(reach["gru"]) and len(reach["lstm"]):
        lstm, gru = np.median(reach["lstm"]), np.median(reach["gru"])
        if reach["lstm"].min() > reach["gru"].max():
            compare = "the LSTM reaches further than the GRU for every seed"
        elif np.all(reach["lstm"] >= reach["gru"]) if len(reach["lstm"]) == len(reach["gru"]) else lstm > gru:
            compare = "the LSTM reaches at least as far as the GRU for every seed, but the ranges overlap"
        else:
            compare = "neither reaches further for every seed"
        fragile = ("the LSTM's counting is fragile too: no seed reaches twice the training range"
                   if np.all(reach["lstm"] < 2 * max_n) else
                   "some LSTM seeds count well beyond the training range")
        sentences.append(f"Trained alike ({settings['hidden_size']} units, {settings['steps']} steps, n <= {max_n}) and "
                         f"tested up to n = {up_to}: {compare}; {fragile}. A hand-built LSTM of one unit recognises "
                         "every n tested: the task is solvable, training just does not always find the solution.")
    return sentences
