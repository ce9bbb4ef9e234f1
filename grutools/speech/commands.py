"""The command line of dashboard 09: ``grutools speech-data`` and ``grutools speech-study`` (see ``grutools.cli``)."""

from __future__ import annotations

import argparse
import time


def _speech_data(args: argparse.Namespace) -> int:
    from ..core import io
    from .digits import FEATURES, LISTEN, SpokenDigits, accuracy, build_features, load_recordings
    from .study import HIDDEN, digit_model, train_digits

    started = time.monotonic()
    if args.recordings:
        build_features(args.recordings, FEATURES, LISTEN)
        load_recordings.cache_clear()
        print(f"Features of the recordings in {args.recordings} written to {FEATURES}, the test recordings to {LISTEN}.")
    task = SpokenDigits()
    model = digit_model("gru", hidden=HIDDEN, seed=args.seed)
    history = train_digits(model, task, args.steps, seed=args.seed, progress=not args.quiet)
    test = accuracy(model, task)
    io.save(args.out, model, history, metadata={"task": "digits", "test_accuracy": test,
                                                 "trained_on": "FSDD indexes 5-49 of every speaker"})
    print(f"A GRU of {HIDDEN} units, {args.steps} steps: {100 * test:.1f}% of the 300 test recordings named right "
          f"({(time.monotonic() - started) / 60:.1f} minutes). Saved to {args.out}.")
    return 0


def _speech_study(args: argparse.Namespace) -> int:
    from .study import order_findings, speaker_findings, speech_study, summary

    started = time.monotonic()
    order, speakers = speech_study(seeds=args.seeds, steps=args.steps, jobs=args.jobs, progress=not args.quiet,
                                   order_out=args.out, speakers_out=args.speakers_out)
    standard = summary(order, "model").get("GRU", (None,))[0]
    for sentence in order_findings(order) + speaker_findings(speakers, standard):
        print(sentence)
    print(f"{len(order) + len(speakers)} runs in {(time.monotonic() - started) / 60:.1f} minutes. Saved to {args.out} "
          f"and {args.speakers_out}.")
    return 0


def add_commands(commands) -> None:
    """Add ``speech-data`` and ``speech-study`` to the parser's subcommands."""
    from ..lessons.studies import study_arguments

    p = commands.add_parser("speech-data", help="the spoken digits' features and the shipped GRU (dashboard 09)",
                            description="With --recordings, compute the log-mel features of the Free Spoken Digit "
                                        "Dataset's WAV files into data/speech/ (and copy its test recordings there); "
                                        "then train the shipped GRU on the standard training split.")
    p.add_argument("--recordings", help="FSDD's recordings/ folder (git clone "
                                        "https://github.com/Jakobovski/free-spoken-digit-dataset, commit 26eb9aa); "
                                        "without it, the shipped features are used")
    p.add_argument("--steps", type=int, default=3000, help="training steps (default: 3000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", default="data/checkpoints/digits_gru.pt", help="checkpoint to write")
    p.set_defaults(run=_speech_data)

    p = commands.add_parser("speech-study", help="spoken digits: does order matter, and a voice never heard",
                            description="Train a GRU, an LSTM, a tanh RNN, an order-blind mean of frames, and a GRU "
                                        "on reversed and on shuffled frames, over seeds; then a GRU without each "
                                        "speaker in turn. Writes each run's test accuracy to two CSVs (dashboard 09).")
    study_arguments(p, 1500, "data/results/speech_order.csv")
    p.add_argument("--speakers-out", default="data/results/speech_speakers.csv", help="CSV of the speaker study")
    p.set_defaults(run=_speech_study)
