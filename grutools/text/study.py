"""Training a character model, the baselines it must beat, and the GRU against the LSTM at an equal parameter
budget over seeds (``grutools text-study``, shipped in ``data/results/text_study.csv`` and ``text_baselines.json``)."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..core.models import TokenModel
from ..core.training import History, train
from ..lessons.studies import read_rows, run_jobs, write_rows
from .corpus import VOCABULARY, load_text
from .language import CharText, bits_per_char, char_model
from .ngram import KneserNey, unigram_bits

LR = 2e-3
BATCH = 32
STUDY_HIDDEN = 128  # the GRU's units in the study; the LSTM gets as many parameters
STUDY_STEPS = 1500
EVAL_CHARS = 30_000  # characters of validation or test text a curve or a study scores on


def baselines(order: int = 5) -> dict[str, float]:
    """Bits per character on the test text of the unigram model, Kneser-Ney of order 2 (a bigram) and of
    ``order``, all counted on the training text (about 10 s)."""
    train_text, test = load_text("train"), load_text("test")
    return {"unigram": unigram_bits(train_text, test), "bigram": KneserNey(train_text, 2).bits_per_char(test),
            f"kneser-ney-{order}": KneserNey(train_text, order).bits_per_char(test), "order": order,
            "test_characters": len(test), "train_characters": len(train_text)}


def equal_budget_lstm(gru_hidden: int, embedding: int = 32) -> int:
    """The LSTM hidden size whose character model has the parameters nearest a GRU model of ``gru_hidden`` units."""
    target = char_model("gru", gru_hidden, embedding=embedding).parameter_count()
    sizes = range(max(1, gru_hidden // 2), gru_hidden + 1)
    return min(sizes, key=lambda h: abs(TokenModel("lstm", len(VOCABULARY), h, embedding).parameter_count() - target))


def train_chars(model: TokenModel, steps: int, seed: int = 0, lr: float = LR,
                callback: Callable[[History], None] | None = None, stop: threading.Event | None = None,
                task: CharText | None = None, progress: bool = False) -> History:
    """Train a character model on windows of the training text (Adam, batches of 32 windows of 128, clipping 1)."""
    return train(model, task or CharText(), steps=steps, lr=lr, batch_size=BATCH, seed=seed, clip_grad=1.0,
                 callback=callback, stop=stop, progress=progress)


def study_run(cell: str, seed: int, steps: int = STUDY_STEPS, hidden: int | None = None) -> dict:
    """One row: a character model of ``cell`` at the study's budget, its test bits per character and step time."""
    hidden = hidden or (STUDY_HIDDEN if cell == "gru" else equal_budget_lstm(STUDY_HIDDEN))
    model = char_model(cell, hidden, seed=seed)
    started = time.perf_counter()
    train_chars(model, steps, seed=seed)
    seconds = time.perf_counter() - started
    return {"cell": cell, "seed": seed, "hidden": hidden, "parameters": model.parameter_count(), "steps": steps,
            "test_bpc": bits_per_char(model, load_text("test")[:EVAL_CHARS]), "ms_per_step": 1000 * seconds / steps}


FIELDS = ("cell", "seed", "hidden", "parameters", "steps", "test_bpc", "ms_per_step")


def text_study(seeds=(0, 1, 2), steps: int = STUDY_STEPS, jobs: int = 1, progress: bool = True,
               out: str | Path | None = None, baselines_out: str | Path | None = None) -> list[dict]:
    """The GRU and the LSTM over ``seeds``, and the baselines; written to ``out`` and ``baselines_out``."""
    runs = [(cell, seed, steps) for cell in ("gru", "lstm") for seed in seeds]
    done = run_jobs(study_run, runs, jobs, progress, label=lambda run: f"{run[0]}, seed {run[1]}")
    rows = [done[run] for run in runs]
    if out:
        write_rows(out, rows, FIELDS)
    if baselines_out:
        Path(baselines_out).write_text(json.dumps(baselines(), indent=1) + "\n")
    return rows


def read_study(path: str | Path) -> list[dict]:
    return read_rows(path, FIELDS, ("seed", "hidden", "parameters", "steps"), ("test_bpc", "ms_per_step"),
                     "a text study")


def read_baselines(path: str | Path) -> dict:
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or "unigram" not in data or "bigram" not in data:
        raise ValueError(f"{path} is not the text baselines file.")
    return data


def study_findings(rows: list[dict]) -> list[str]:
    """GRU against LSTM at an equal budget, read from the numbers and their spread over seeds."""
    by: dict[str, list[dict]] = {}
    for row in rows:
        by.setdefault(row["cell"], []).append(row)
    if not {"gru", "lstm"} <= set(by):
        return []
    stats = {cell: ([r["test_bpc"] for r in rs], statistics.fmean(r["ms_per_step"] for r in rs), rs[0])
             for cell, rs in by.items()}
    (g, g_ms, g_row), (l_, l_ms, l_row) = stats["gru"], stats["lstm"]
    gm, lm = statistics.fmean(g), statistics.fmean(l_)
    apart = min(g) > max(l_) or min(l_) > max(g)
    verdict = ("the seeds overlap: on this text and budget neither is better" if not apart else
               f"the {'GRU' if gm < lm else 'LSTM'} is better, beyond the seeds' spread")
    return [f"At {g_row['parameters']:,} parameters for the GRU ({g_row['hidden']} units) and {l_row['parameters']:,} "
            f"for the LSTM ({l_row['hidden']} units), "
            f"{g_row['steps']} steps: the GRU reads the test text at {gm:.3f} bits per character (seeds "
            f"{min(g):.3f}-{max(g):.3f}), the LSTM at {lm:.3f} ({min(l_):.3f}-{max(l_):.3f}); {verdict}.",
            f"A training step took {g_ms:.0f} ms for the GRU and {l_ms:.0f} ms for the LSTM (one torch thread each; "
            "the GRU on this suite's fused kernel, the LSTM on PyTorch's)."]
