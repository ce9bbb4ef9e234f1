"""Speed of grutools' fused CPU GRU against PyTorch's GRU, LSTM and RNN, side by side (issue: fast GRU).

For each size (batch, length, hidden; 2 inputs), the median time of a forward
pass and of a forward+backward pass (the modules timed in turns, many calls per
sample for the short ones), and the ratios that matter: ours against
``nn.LSTM`` (target: 1.0 or less) and ``nn.GRU`` against ours (target: 3 or more).
Then gate extraction: :func:`grutools.trace` against one forward pass of the same
module (target: under 0.5 of a forward pass *extra*), for ours and for ``nn.GRU``.

``--before REV`` adds the FastGRU of an earlier commit (its ``grutools/core/fast.py``, on
today's compiled kernel) to the same interleaved rounds, and prints ours/before: the cost
of a change to FastGRU's Python side, measured in one run.

Usage: ``python benchmarks/fast_gru.py [--repeats 7] [--threads N] [--before REV]``
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from grutools import trace
from grutools.core.fast import FastGRU, available

SIZES = [(32, 50, 16), (64, 100, 32), (64, 100, 64), (128, 100, 64), (128, 200, 128), (128, 500, 128)]


def median_ms(functions: dict, repeats: int, sample_seconds: float = 0.02) -> dict:
    """Median milliseconds per call of each function, timed in turns (one sample of each, then the next
    round), so that the machine's drifting speed (it varies by tens of percent here) hits all of them alike.
    A sample repeats a call until it lasts about ``sample_seconds``, so that sub-millisecond calls are timed
    over many runs rather than one."""
    loops = {}
    for name, function in functions.items():
        function()
        start = time.perf_counter()
        function()
        loops[name] = max(1, round(sample_seconds / max(time.perf_counter() - start, 1e-6)))
    samples = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            for _ in range(loops[name]):
                function()
            samples[name].append((time.perf_counter() - start) / loops[name])
    return {name: 1000 * statistics.median(values) for name, values in samples.items()}


def forward_only(module, x):
    def run():
        with torch.no_grad():
            module(x)
    return run


def forward_backward(module, x):
    def run():
        module(x)[0].sum().backward()
    return run


def traced(module, x):
    return lambda: trace(module, x)


def fast_gru_of(revision: str):
    """The ``FastGRU`` class of ``grutools/core/fast.py`` at a git ``revision``, loaded beside today's (same kernel)."""
    root = Path(__file__).resolve().parent.parent
    try:
        source = subprocess.run(["git", "show", f"{revision}:grutools/core/fast.py"], cwd=root, capture_output=True,
                                text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise SystemExit(f"--before {revision}: git could not show grutools/core/fast.py at that revision ({error})") from error
    path = Path(tempfile.mkdtemp(prefix="grutools-before-")) / "fast_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("grutools.core.fast_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.FastGRU


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--before", metavar="REV", help="also time FastGRU as it was at this git revision")
    args = parser.parse_args()
    before = fast_gru_of(args.before) if args.before else None
    if args.threads:
        torch.set_num_threads(args.threads)
    if not available():
        print("the fast GRU is not built here (see the warning above); nothing to compare", file=sys.stderr)
        return 1
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {args.repeats} runs, milliseconds\n")
    header = (f"{'batch x length x hidden':>24} | {'fwd: GRU':>9} {'LSTM':>7} {'RNN':>7} {'ours':>7} | "
              f"{'fwd+bwd: GRU':>13} {'LSTM':>7} {'RNN':>7} {'ours':>7} | {'ours/LSTM':>9} {'GRU/ours':>8}"
              + (f" | {'ours/before fwd':>15} {'fwd+bwd':>7}" if before else ""))
    print(header)
    print("-" * len(header))
    for batch, length, hidden in SIZES:
        x = torch.randn(batch, length, 2)
        modules = {"GRU": torch.nn.GRU(2, hidden, batch_first=True), "LSTM": torch.nn.LSTM(2, hidden, batch_first=True),
                   "RNN": torch.nn.RNN(2, hidden, batch_first=True), "ours": FastGRU(2, hidden, batch_first=True)}
        if before:
            modules["before"] = before(2, hidden, batch_first=True)
        forward = median_ms({name: forward_only(module, x) for name, module in modules.items()}, args.repeats)
        both = median_ms({name: forward_backward(module, x) for name, module in modules.items()}, args.repeats)
        print(f"{f'{batch} x {length} x {hidden}':>24} | {forward['GRU']:9.2f} {forward['LSTM']:7.2f} {forward['RNN']:7.2f} "
              f"{forward['ours']:7.2f} | {both['GRU']:13.2f} {both['LSTM']:7.2f} {both['RNN']:7.2f} {both['ours']:7.2f} | "
              f"{both['ours'] / both['LSTM']:9.2f} {both['GRU'] / both['ours']:8.2f}"
              + (f" | {forward['ours'] / forward['before']:15.3f} {both['ours'] / both['before']:7.3f}" if before else ""))
    print("\nGate extraction: trace(module, x) against one forward pass (no gradient)")
    print(f"{'batch x length x hidden':>24} | {'module':>8} {'forward':>8} {'trace':>8} {'extra / forward':>16}")
    for batch, length, hidden in SIZES[:4]:
        x = torch.randn(batch, length, 2)
        for name, module in (("ours", FastGRU(2, hidden, batch_first=True)),
                             ("nn.GRU", torch.nn.GRU(2, hidden, batch_first=True))):
            times = median_ms({"forward": forward_only(module, x), "trace": traced(module, x)}, args.repeats)
            f, t = times["forward"], times["trace"]
            print(f"{f'{batch} x {length} x {hidden}':>24} | {name:>8} {f:8.2f} {t:8.2f} {(t - f) / f:16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
