"""The command line of dashboard 10: ``grutools text-data`` and ``grutools text-study`` (see ``grutools.cli``)."""

from __future__ import annotations

import argparse
import time


def _text_data(args: argparse.Namespace) -> int:
    import json

    from ..core import io
    from .corpus import DATA, build_corpus, load_text
    from .language import CharText, bits_per_char, char_model
    from .study import baselines, train_chars

    started = time.monotonic()
    if args.corpus:
        sizes = build_corpus(DATA)
        print(f"Corpus written to {DATA}: " + ", ".join(f"{k} {v:,} characters" for k, v in sizes.items()))
    print("Counting the baselines...", flush=True)
    numbers = baselines()
    if args.baselines_out:
        with open(args.baselines_out, "w") as handle:
            handle.write(json.dumps(numbers, indent=1) + "\n")
    model = char_model("gru", args.hidden, seed=args.seed)
    task = CharText()
    history = train_chars(model, args.steps, seed=args.seed, task=task, progress=not args.quiet)
    if args.tail:  # then a tenth of the rate or so, briefly: the validation text gained 0.04 bits here
        train_chars(model, args.tail, seed=args.seed + 1, lr=args.tail_lr, task=task, progress=not args.quiet)
    test = bits_per_char(model, load_text("test"))
    io.save(args.out, model, history, metadata={
        "task": "text", "test_bpc": test, "valid_bpc": bits_per_char(model, load_text("valid")),
        "steps": args.steps + args.tail, "schedule": f"{args.steps} steps at Adam 2e-3, then {args.tail} at "
                                                     f"{args.tail_lr:g}", "trained_on": "data/text/train.txt"})
    print(f"A character GRU of {args.hidden} units, {args.steps} steps: {test:.3f} bits per character on the test "
          f"text; unigram {numbers['unigram']:.3f}, bigram {numbers['bigram']:.3f}, Kneser-Ney 5 "
          f"{numbers['kneser-ney-5']:.3f} ({(time.monotonic() - started) / 60:.1f} minutes). Saved to {args.out}.")
    return 0


def _text_study(args: argparse.Namespace) -> int:
    from .study import study_findings, text_study

    started = time.monotonic()
    rows = text_study(seeds=args.seeds, steps=args.steps, jobs=args.jobs, progress=not args.quiet, out=args.out)
    for sentence in study_findings(rows):
        print(sentence)
    print(f"{len(rows)} runs in {(time.monotonic() - started) / 60:.1f} minutes. Saved to {args.out}.")
    return 0


def add_commands(commands) -> None:
    """Add ``text-data`` and ``text-study`` to the parser's subcommands."""
    from ..lessons.studies import study_arguments

    p = commands.add_parser("text-data", help="the text corpus, its baselines and the shipped character GRU (10)",
                            description="With --corpus, write data/text/ from this Python's standard library; then "
                                        "count the baselines on it and train the shipped character GRU.")
    p.add_argument("--corpus", action="store_true", help="write the corpus anew from the standard library first")
    p.add_argument("--hidden", type=int, default=256, help="units of the shipped GRU (default: 256)")
    p.add_argument("--steps", type=int, default=5000, help="training steps at Adam 2e-3 (default: 5000, about 15 "
                                                          "minutes on one core)")
    p.add_argument("--tail", type=int, default=500, help="then this many steps at --tail-lr (default: 500)")
    p.add_argument("--tail-lr", type=float, default=3e-4, help="the learning rate of the tail (default: 3e-4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", default="data/checkpoints/text_gru.pt", help="checkpoint to write")
    p.add_argument("--baselines-out", default="data/results/text_baselines.json", help="the baselines' JSON")
    p.set_defaults(run=_text_data)

    p = commands.add_parser("text-study", help="character GRU against LSTM at an equal budget over seeds (10)",
                            description="Train a character GRU of 128 units and an LSTM of as many parameters on the "
                                        "shipped corpus over seeds; write each run's test bits per character and "
                                        "step time to a CSV (dashboard 10).")
    study_arguments(p, 1500, "data/results/text_study.csv")
    p.set_defaults(run=_text_study)
