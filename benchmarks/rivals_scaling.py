"""How the GRU's cost grows with length against its rivals, and what streaming one step at a time costs (issue 30).

Three measurements, each in interleaved rounds (the models' order shuffled every round,
so that this machine's drift of tens of percent hits all alike), one torch thread:

1. **Training step against length**: one Adam step (forward, backward, update) on a batch
   of ``--batch`` sequences, ``--hidden`` units, at lengths 50 to 2,000, for every model of
   dashboard 07. The median over rounds, and the slope of log(time) against log(length).
2. **minGRU, scan against loop**: the same training step for the minGRU by its parallel
   scan in log space and by its step-by-step recurrence (``min_gru_sequential``), and the
   ratio loop/scan per length (the issue's goal: the scan is faster from length 256 on).
3. **Streaming**: one sequence arriving a step at a time (``grutools.core.streaming``): the
   bytes each model keeps between steps and the milliseconds a new step takes, after 10,
   100, 500, 1,000 and 2,000 steps.

Usage: ``python benchmarks/rivals_scaling.py [--rounds 3] [--out data/results/rivals_scaling.json]``
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import torch

from grutools.core.models import SequenceModel
from grutools.core.rivals import min_gru_sequential
from grutools.core.streaming import stream
from grutools.lessons.rivals import MODELS, NAMES, fit_slope
from grutools.lessons.speed import machine

LENGTHS = (50, 100, 200, 500, 1000, 2000)
SCAN_LENGTHS = (64, 128, 256, 512, 1024, 2048)
STREAM_AT = (10, 100, 500, 1000, 2000)


def step_seconds(model: SequenceModel, x: torch.Tensor, forward=None, repeats: int = 3) -> float:
    """The median seconds of one training step (forward, MSE on every step, backward, Adam)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    forward = forward or (lambda: model.core(x)[0])
    times = []
    for _ in range(repeats + 1):  # the first is a warm-up
        started = time.perf_counter()
        loss = forward().pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def stream_profile(kind: str, hidden: int, steps: int = max(STREAM_AT)) -> dict:
    """Bytes kept and milliseconds per new step (median of the 10 steps up to each mark) for one streamed sequence."""
    model = SequenceModel(kind, input_size=1, hidden_size=hidden, output_size=1, seed=0).eval()
    s = stream(model)
    x = torch.randn(steps, 1, 1)
    recent, profile = [], {"bytes": [], "ms": []}
    for t in range(steps):
        started = time.perf_counter()
        s.step(x[t])
        recent = (recent + [time.perf_counter() - started])[-10:]
        if t + 1 in STREAM_AT:
            profile["bytes"].append(s.memory_bytes())
            profile["ms"].append(1000 * statistics.median(recent))
    return profile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--batch", type=int, default=16, help="sequences per training step (default 16)")
    parser.add_argument("--hidden", type=int, default=32, help="hidden units (default 32)")
    parser.add_argument("--out", help="write the figures to this JSON file (e.g. data/results/rivals_scaling.json)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.batch < 1 or args.hidden < 2 or args.hidden % 2:
        parser.error("--rounds and --batch must be positive, --hidden even and at least 2")
    torch.set_num_threads(1)
    rng = random.Random(0)
    train = {kind: {n: [] for n in LENGTHS} for kind in MODELS}
    scan = {way: {n: [] for n in SCAN_LENGTHS} for way in ("scan", "loop")}
    streaming = {kind: [] for kind in MODELS}
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_} of {args.rounds} ...", flush=True)
        for n in LENGTHS:
            x = torch.randn(args.batch, n, 1)
            for kind in rng.sample(MODELS, len(MODELS)):
                model = SequenceModel(kind, input_size=1, hidden_size=args.hidden, output_size=1, seed=round_)
                train[kind][n].append(step_seconds(model, x))
        for n in SCAN_LENGTHS:
            x = torch.randn(args.batch, n, 1)
            model = SequenceModel("mingru", input_size=1, hidden_size=args.hidden, output_size=1, seed=round_)
            ways = {"scan": lambda m=model, x=x: m.core(x)[0], "loop": lambda m=model, x=x: min_gru_sequential(m.core, x)}
            for way in rng.sample(list(ways), 2):
                scan[way][n].append(step_seconds(model, x, ways[way]))
        for kind in rng.sample(MODELS, len(MODELS)):
            streaming[kind].append(stream_profile(kind, args.hidden))

    result = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "rounds": args.rounds, "batch": args.batch,
              "hidden": args.hidden, "lengths": list(LENGTHS), "scan_lengths": list(SCAN_LENGTHS),
              "stream_at": list(STREAM_AT), "command": "python benchmarks/rivals_scaling.py " + " ".join(argv or sys.argv[1:]),
              "train_ms": {}, "train_spread_ms": {}, "slope": {}, "scan_ms": {}, "scan_ratio": {}, "stream": {}}
    print(f"\ntraining step (ms, median of {args.rounds} rounds; batch {args.batch}, {args.hidden} units)")
    print(f"{'model':26}" + "".join(f"{n:>9}" for n in LENGTHS) + f"{'slope':>8}")
    for kind in MODELS:
        medians = [1000 * statistics.median(train[kind][n]) for n in LENGTHS]
        result["train_ms"][kind] = medians
        result["train_spread_ms"][kind] = [[1000 * min(train[kind][n]), 1000 * max(train[kind][n])] for n in LENGTHS]
        result["slope"][kind] = fit_slope(LENGTHS, medians)
        print(f"{NAMES[kind]:26}" + "".join(f"{m:9.1f}" for m in medians) + f"{result['slope'][kind]:8.2f}")
    print("\nminGRU training step, parallel scan against its loop (ms)")
    print(f"{'length':>8}{'scan':>9}{'loop':>9}{'loop/scan':>11}{'spread':>16}")
    for n in SCAN_LENGTHS:
        s, loop = statistics.median(scan["scan"][n]), statistics.median(scan["loop"][n])
        ratios = [b / a for a, b in zip(scan["scan"][n], scan["loop"][n])]
        result["scan_ms"][str(n)] = [1000 * s, 1000 * loop]
        result["scan_ratio"][str(n)] = loop / s
        print(f"{n:8d}{1000 * s:9.1f}{1000 * loop:9.1f}{loop / s:11.2f}{min(ratios):8.2f}-{max(ratios):.2f}")
    faster = [n for n in SCAN_LENGTHS if result["scan_ratio"][str(n)] > 1]
    print(f"the scan is faster at lengths {faster or 'none'}; goal: from 256 on "
          f"({'met' if all(result['scan_ratio'][str(n)] > 1 for n in SCAN_LENGTHS if n >= 256) else 'not met'})")
    print("\nstreaming one sequence a step at a time: bytes kept | ms per new step, after " +
          ", ".join(map(str, STREAM_AT)) + " steps")
    for kind in MODELS:
        kept = [statistics.median(p["bytes"][i] for p in streaming[kind]) for i in range(len(STREAM_AT))]
        ms = [statistics.median(p["ms"][i] for p in streaming[kind]) for i in range(len(STREAM_AT))]
        result["stream"][kind] = {"bytes": kept, "ms": ms}
        print(f"{NAMES[kind]:26}" + " ".join(f"{int(b):>8}" for b in kept) + " | " + " ".join(f"{m:6.2f}" for m in ms))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
        print(f"\nSaved to {args.out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
