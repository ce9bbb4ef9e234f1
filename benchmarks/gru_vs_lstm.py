"""GRU against LSTM: the step-time ratio with its confidence interval, for dashboard 04 to show beside its live figure.

For each task of the study, GRU size and mode (equal size, equal budget), a GRU and an
LSTM are timed interleaved for ``--seconds`` (one training step of each per round,
alternating order) by :func:`grutools.lessons.speed.compare_speed`; the median ratio GRU/LSTM,
its distribution-free 99% interval and the verdict are written, with the date and the
machine, to ``--out`` (the shipped copy: ``data/results/speed.json``).

Usage: ``python benchmarks/gru_vs_lstm.py [--seconds 8] [--threads 1] [--out data/results/speed.json]``
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import torch

from grutools.core import fast
from grutools.core.models import CELLS
from grutools.core.tasks import make_task
from grutools.lessons.compare import STUDY_TASKS, matched_hidden_sizes, model_parameters
from grutools.lessons.speed import LEVEL, compare_speed, machine

HIDDEN = [16, 32, 64, 128]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="timing per setting (default 8)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as a classroom kernel)")
    parser.add_argument("--hidden", type=int, nargs="+", default=HIDDEN, help="GRU sizes (default 16 32 64 128)")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    print(f"{'task':10} {'mode':13} {'GRU':>4} {'LSTM':>5} {'GRU ms':>7} {'LSTM ms':>8} {'ratio':>6} "
          f"{'99% interval':>13} {'rounds':>6}  verdict")
    for name, length in STUDY_TASKS.items():
        task = make_task(name, length)
        for hidden in args.hidden:
            for mode in ("equal size", "equal budget"):
                sizes = (dict.fromkeys(CELLS, hidden) if mode == "equal size"
                         else matched_hidden_sizes(task, model_parameters("gru", task, hidden)))
                speed = compare_speed(task, sizes, budget=args.seconds, max_rounds=100_000, stop_early=False)
                gru, lstm = (1000 * sorted(speed.times[c])[len(speed.times[c]) // 2] for c in ("gru", "lstm"))
                rows.append({"task": name, "length": length, "mode": mode, "hidden": hidden, "lstm_hidden": sizes["lstm"],
                             "gru_ms": round(gru, 3), "lstm_ms": round(lstm, 3), "ratio": round(speed.ratio, 4),
                             "low": round(speed.low, 4), "high": round(speed.high, 4), "rounds": speed.rounds,
                             "decision": speed.decision})
                print(f"{name:10} {mode:13} {hidden:4} {sizes['lstm']:5} {gru:7.2f} {lstm:8.2f} {speed.ratio:6.2f} "
                      f"{speed.low:6.2f}-{speed.high:<6.2f} {speed.rounds:6}  {speed.decision}", flush=True)
    data = {"date": datetime.date.today().isoformat(), "machine": machine(), "fast_gru": fast.available(),
            "level": LEVEL, "seconds": args.seconds, "batch_size": 64, "rows": rows}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(data, indent=1) + "\n")
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
