"""The command line: ``python -m grutools COMMAND``; ``python -m grutools --help`` lists the commands."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from .core import io
from .core.models import CELLS, SequenceModel
from .core.tasks import TASKS, make_task
from .core.training import TrainingDiverged, evaluate, train


def ensure_writable(path: str | Path, folder: bool = False) -> None:
    """Check, before any work, that ``path`` (a file, or with ``folder`` a folder) can be written; ``ValueError`` if not.

    The studies run for minutes to hours and write their results at the end: a wrong
    ``--out`` must fail at once, not after the work. Creates the folder, as writing would.
    """
    path = Path(path)
    target = path if folder else path.parent
    if not folder and path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name to write.")
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target, prefix=".grutools-check-"):
            pass
    except OSError as error:
        raise ValueError(f"cannot write {path}: {error.strerror or error} ({target}). Choose another place; "
                         "nothing was run.") from None


def port_number(text: str) -> int:
    """A TCP port from the command line, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 1 to 65535; got {text!r}")
    return port


def _train(args: argparse.Namespace) -> int:
    task = make_task(args.task, args.length)
    model = SequenceModel(args.cell, hidden_size=args.hidden, num_layers=args.layers, seed=args.seed,
                          **task.model_kwargs())
    print(f"{task.title}, length {task.length}: {model.cell.upper()} with {args.hidden} units x {args.layers} "
          f"layer(s), {model.parameter_count():,} parameters. Learned-nothing loss: {task.baseline:.3f}.")
    try:
        history = train(model, task, steps=args.steps, lr=args.lr, batch_size=args.batch_size, seed=args.seed,
                        clip_grad=args.clip if args.clip > 0 else None, snapshot_every=args.snapshot_every,
                        progress=not args.quiet)
    except TrainingDiverged as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    test_loss = evaluate(model, task)
    path = io.save(args.out, model=model, history=history,
                   metadata={"task": task.name, "length": task.length, "test_loss": test_loss})
    print(f"final training loss {history.final_loss:.4f}, test loss {test_loss:.4f} "
          f"({history.wall_time[-1]:.1f} s). Saved to {path}.")
    return 0


def _info(args: argparse.Namespace) -> int:
    checkpoint = io.load(args.path)
    if checkpoint.model is not None:
        model = checkpoint.model
        print(f"model: {model.config}, {model.parameter_count():,} parameters")
    if checkpoint.history is not None:
        history = checkpoint.history
        print(f"history: {len(history.loss)} steps, final loss {history.final_loss:.4f}, "
              f"{len(history.snapshots)} snapshots, settings {history.settings}")
    if checkpoint.metadata:
        print(f"metadata: {checkpoint.metadata}")
    return 0


def _race_table(args: argparse.Namespace) -> int:
    from .lessons.vanishing import race_table, summarise_table

    rows = race_table(args.lengths, args.seeds, hidden_size=args.hidden, steps=args.steps, lr=args.lr, out=args.out,
                      progress=not args.quiet)
    print(f"{'cell':6}{'length':>8}{'test MSE mean':>15}{'sd':>9}{'min':>9}{'max':>9}")
    for (cell, length), s in sorted(summarise_table(rows).items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(f"{cell:6}{length:8d}{s['mean']:15.4f}{s['std']:9.4f}{s['min']:9.4f}{s['max']:9.4f}")
    print(f"Saved to {args.out}.")
    return 0


def _rivals_study(args: argparse.Namespace) -> int:
    from .lessons.rivals import NAMES, STUDY, rivals_study, summarise_study, verdicts

    tasks = {label: STUDY[label] for label in args.tasks}
    rows = rivals_study(tasks, seeds=args.seeds, hidden_size=args.hidden, steps=args.steps, lr=args.lr,
                        out=args.out, progress=not args.quiet, jobs=args.jobs)
    summary = summarise_study(rows)
    print(f"{'task':10}{'length':>7} {'model':26}{'params':>8}{'test loss':>11}{'sd':>9}{'ms/step':>9}{'to target':>11}")
    for (task, length, model), s in sorted(summary.items()):
        reached = f"{s['seconds_to_target']:.1f} s" if s["seconds_to_target"] is not None else "never"
        print(f"{task:10}{length:7d} {NAMES[model]:26}{s['parameters']:8d}{s['mean']:11.4g}{s['std']:9.2g}"
              f"{s['ms_per_step']:9.1f}{reached:>11}")
    for sentence in verdicts(summary):
        print(sentence)
    print(f"Saved to {args.out}.")
    return 0


def _tuning_study(args: argparse.Namespace) -> int:
    from .lessons.tuning import TASKS, summarise_grid, tuning_claims, tuning_study

    started = time.monotonic()
    rows = tuning_study({name: TASKS[name] for name in args.tasks}, learning_rates=args.lrs, hidden_sizes=args.hidden,
                        seeds=args.seeds, steps=args.steps, out=args.out, progress=not args.quiet, jobs=args.jobs)
    from .lessons.monitoring import scenario_findings, scenario_study

    scenarios = scenario_study(seeds=args.seeds, jobs=args.jobs, progress=not args.quiet, out=args.scenarios_out)
    for sentence in tuning_claims(summarise_grid(rows)) + scenario_findings(scenarios):
        print(sentence)
    print(f"{len(rows) + len(scenarios)} runs in {(time.monotonic() - started) / 60:.1f} minutes. Saved to {args.out} "
          f"and {args.scenarios_out}.")
    return 0


def _chrono_table(args: argparse.Namespace) -> int:
    from .lessons.chrono import chrono_findings, chrono_table

    rows = chrono_table({"adding": args.adding, "copy": args.copy}, seeds=args.seeds, hidden_size=args.hidden,
                        steps=args.steps, out=args.out, progress=not args.quiet)
    for sentence in chrono_findings(rows):
        print(sentence)
    print(f"Saved to {args.out}.")
    return 0


def _counting_study(args: argparse.Namespace) -> int:
    from .lessons.counting import counting_study

    counting_study(seeds=args.seeds, max_n=args.max_n, hidden_size=args.hidden, steps=args.steps,
                   test_up_to=args.test_up_to, out=args.out, progress=not args.quiet, checkpoints=args.checkpoints)
    print(f"Saved to {args.out}.")
    return 0


def _hub_config(args: argparse.Namespace) -> int:
    import json

    from .classroom.hub import server_config

    text = json.dumps(server_config(), indent=1) + "\n"
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"Wrote {path}.")
    else:
        print(text, end="")
    return 0


def _learning_curves(args: argparse.Namespace) -> int:
    from .lessons.compare import learning_curves, summarise_curves, verdict

    data = learning_curves(seeds=args.seeds, hidden_size=args.hidden, steps=args.steps, out=args.out,
                           progress=not args.quiet)
    for task in data["settings"]["tasks"]:
        for mode in ("equal size", "equal budget"):
            print(f"{task}, {mode}: {verdict(summarise_curves(data, task, mode))}")
    print(f"Saved to {args.out}.")
    return 0


def _build(args: argparse.Namespace) -> int:
    import warnings

    from .core import build, fast

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = fast.extension(verbose=args.verbose, force=args.force)
    from .classroom.template import prepare

    print(f"Voila template ready: {prepare()}")
    if module is None:
        print(f"warning: {caught[-1].message if caught else 'the fast GRU could not be built'}", file=sys.stderr)
        print(f"(looked in: {', '.join(str(d) for d in build.candidate_directories())})", file=sys.stderr)
        return 0  # not an error: grutools falls back to torch.nn.GRU
    agrees = fast.agrees_with_torch()
    print(f"fast CPU GRU ready: {module.__file__}\n"
          f"it loads and {'agrees with torch.nn.GRU' if agrees else 'DISAGREES with torch.nn.GRU (please report this)'}.")
    from .speech.audio import warm_up

    print(warm_up())
    return 0 if agrees else 1


def _export(args: argparse.Namespace) -> int:
    from .classroom.export import export

    pages = export(args.out, args.notebooks or None, progress=not args.quiet)
    print(f"Wrote {len(pages)} pages, index.html and plotly.min.js to {args.out}/ (open index.html, or copy the "
          f"folder to a course page).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``python -m grutools``."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="grutools",
        description="Train GRUs, tanh RNNs and LSTMs on teaching tasks and inspect them; serve the dashboards.",
    )
    parser.add_argument("--version", action="version", version=f"grutools {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("train", help="train a model on a task and save it with its history",
                            description="Train a model on a task, with a progress bar, and save the model and its "
                                        "training history to a file that the dashboards and grutools.load read.")
    p.add_argument("--task", choices=sorted(TASKS), default="adding", help="what to learn (default: adding)")
    p.add_argument("--cell", choices=CELLS, default="gru", help="recurrent cell (default: gru)")
    p.add_argument("--length", type=int, default=100, help="time steps per sequence (default: 100)")
    p.add_argument("--hidden", type=int, default=32, help="hidden units per layer (default: 32)")
    p.add_argument("--layers", type=int, default=1, help="stacked layers (default: 1)")
    p.add_argument("--steps", type=int, default=800, help="training steps (default: 800)")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (default: 0.01)")
    p.add_argument("--batch-size", type=int, default=64, help="sequences per step (default: 64)")
    p.add_argument("--clip", type=float, default=1.0, help="gradient-norm clipping, 0 for none (default: 1.0)")
    p.add_argument("--snapshot-every", type=int, default=50, help="keep weights every N steps (default: 50)")
    p.add_argument("--seed", type=int, default=0, help="seed for the weights and the batches (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", required=True, help="where to save, e.g. data/checkpoints/adding_gru.pt")
    p.set_defaults(run=_train)

    p = commands.add_parser("race-table", help="RNN vs GRU vs LSTM on the adding problem over lengths and seeds",
                            description="Race a tanh RNN, a GRU and an LSTM on the adding problem at several "
                                        "lengths and seeds and write the final losses to a CSV (the table of the "
                                        "vanishing-gradients dashboard).")
    p.add_argument("--lengths", type=int, nargs="+", default=[25, 50, 100, 200], help="sequence lengths")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (weights and batches)")
    p.add_argument("--hidden", type=int, default=32, help="hidden units (default: 32)")
    p.add_argument("--steps", type=int, default=1000, help="training steps per race (default: 1000)")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (default: 0.01)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", default="data/results/race_adding.csv", help="CSV to write")
    p.set_defaults(run=_race_table)

    p = commands.add_parser("rivals-study", help="the GRU against its rivals (LSTM, MLP, TCN, minGRU, Transformer)",
                            description="Train the GRU, the LSTM, a window MLP, a causal TCN, the minGRU and a causal "
                                        "Transformer in lock step on the same tasks and seeds, and write parameters, "
                                        "test loss, time per step and time to a target loss to a CSV (dashboard 07).")
    p.add_argument("--tasks", nargs="+", default=["adding100", "adding600", "sunspots", "parity"],
                   choices=["adding100", "adding600", "sunspots", "parity"], help="tasks of the study")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (weights and batches)")
    p.add_argument("--hidden", type=int, default=32, help="hidden units (default: 32)")
    p.add_argument("--steps", type=int, default=600, help="training steps per race (default: 600)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (default: 0.003)")
    p.add_argument("--jobs", type=int, default=1, help="races run side by side in worker processes (default: 1)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--out", default="data/results/rivals.csv", help="CSV to write")
    p.set_defaults(run=_rivals_study)

    p = commands.add_parser("tuning-study", help="learning rate by hidden size, over seeds, GRU and LSTM",
                            description="Train a GRU and an LSTM at every learning rate and hidden size of a grid, "
                                        "over seeds, on the sunspots and the adding problem, and write each run's "
                                        "held-out loss to a CSV (dashboard 08's heatmaps).")
    p.add_argument("--tasks", nargs="+", default=["sunspots", "adding"], choices=["sunspots", "adding"])
    p.add_argument("--lrs", type=float, nargs="+", default=[1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0],
                   help="Adam learning rates (default: 1e-4 to 1, half a decade apart)")
    p.add_argument("--hidden", type=int, nargs="+", default=[8, 32, 64], help="hidden sizes (default: 8 32 64)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (weights and batches)")
    p.add_argument("--steps", type=int, default=300, help="training steps per run (default: 300)")
    p.add_argument("--jobs", type=int, default=1, help="runs side by side in worker processes (default: 1)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--out", default="data/results/tuning.csv", help="CSV to write")
    p.add_argument("--scenarios-out", default="data/results/scenarios.csv", help="CSV of the monitored scenarios")
    p.set_defaults(run=_tuning_study)

    p = commands.add_parser("chrono-table", help="default against chrono-initialised GRU and LSTM over seeds",
                            description="Train a GRU and an LSTM with PyTorch's default gate biases and with chrono "
                                        "initialisation at the longest lengths of the adding and copy tasks, over "
                                        "seeds, and write the test losses to a CSV (the table of dashboard 03).")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="seeds (weights and batches)")
    p.add_argument("--adding", type=int, default=400, help="adding-problem length (default: 400)")
    p.add_argument("--copy", type=int, default=200, help="copy-task length (default: 200)")
    p.add_argument("--hidden", type=int, default=32, help="hidden units (default: 32)")
    p.add_argument("--steps", type=int, default=600, help="training steps per run (default: 600)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", default="data/results/chrono.csv", help="CSV to write")
    p.set_defaults(run=_chrono_table)

    p = commands.add_parser("counting-study", help="GRU vs LSTM on aⁿbⁿ (counting) over seeds",
                            description="Train a GRU and an LSTM of equal size on aⁿbⁿ with n up to --max-n over "
                                        "seeds, and record the largest n each recognises up to --test-up-to (the "
                                        "counting section of dashboard 04).")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="seeds (weights and batches)")
    p.add_argument("--max-n", type=int, default=20, help="largest n in training (default: 20)")
    p.add_argument("--hidden", type=int, default=8, help="hidden units of both models (default: 8)")
    p.add_argument("--steps", type=int, default=1500, help="training steps per run (default: 1500)")
    p.add_argument("--test-up-to", type=int, default=200, help="largest n tested (default: 200)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--out", default="data/results/counting.json", help="JSON to write")
    p.add_argument("--checkpoints", default=None, help="save the first seed's models here (anbn_gru.pt, anbn_lstm.pt)")
    p.set_defaults(run=_counting_study)

    p = commands.add_parser("hub-config", help="the Jupyter server settings a JupyterHub user's server needs",
                            description="Print (or write to --out) the Jupyter server config that serves the "
                                        "dashboards inside a JupyterHub user's server as 'grutools serve' does: Voila's "
                                        "template and page settings and kernel culling, from the shipped voila.json. "
                                        "In a user image: --out /etc/jupyter/jupyter_server_config.d/grutools.json")
    p.add_argument("--out", default=None, help="write the JSON here instead of printing it")
    p.set_defaults(run=_hub_config)

    p = commands.add_parser("learning-curves", help="GRU vs LSTM vs RNN learning curves over tasks and seeds",
                            description="Train a tanh RNN, a GRU and an LSTM on the adding, copy and sunspots tasks, "
                                        "at equal hidden size and at equal parameter budget, over several seeds, and "
                                        "write the learning curves to JSON (the data of the GRU-vs-LSTM dashboard).")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (weights and batches)")
    p.add_argument("--hidden", type=int, default=32, help="hidden units; the budget is the GRU's (default: 32)")
    p.add_argument("--steps", type=int, default=800, help="training steps per run (default: 800)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", default="data/results/learning_curves.json", help="JSON to write")
    p.set_defaults(run=_learning_curves)

    p = commands.add_parser("build", help="compile the fast CPU GRU and ready the dashboards' template",
                            description="Compile grutools' fused CPU GRU extension now (about 20 s) instead of at "
                                        "first use, say where it went and whether it loads, and write plotly's widget "
                                        "bundle beside the Voila template. Where the GRU cannot be built, grutools uses "
                                        "torch.nn.GRU.")
    p.add_argument("--verbose", action="store_true", help="show the compiler's output")
    p.add_argument("--force", action="store_true", help="compile again even if an up-to-date build exists")
    p.set_defaults(run=_build)

    p = commands.add_parser("export", help="static HTML copies of the dashboards, for a course page",
                            description="Run every dashboard once and write a static HTML page of each (narrative, "
                                        "interactive plotly figures, findings; no controls, no kernel) plus "
                                        "plotly.min.js, to post on a course page. Nothing is loaded from the internet.")
    p.add_argument("notebooks", nargs="*", help="notebook names (default: all in notebooks/)")
    p.add_argument("--out", default="site", help="folder to write (default: site)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_export)

    p = commands.add_parser("info", help="describe a saved model or history",
                            description="Print what a file written by 'train' or grutools.save holds.")
    p.add_argument("path", help="a .pt file written by grutools")
    p.set_defaults(run=_info)
    from .classroom.commands import add_commands as add_class_commands  # serve, lab
    from .speech.commands import add_commands  # speech-data, speech-study (dashboard 09)
    from .text.commands import add_commands as add_text_commands  # text-data, text-study (dashboard 10)

    add_class_commands(commands, port_number)
    add_commands(commands)
    add_text_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    passed_on: list[str] = []
    if "--" in argv:  # what follows goes to Voila or JupyterLab as it is (argparse would mix it with our positionals)
        argv, passed_on = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    parser = build_parser()
    args = parser.parse_args(argv)
    if passed_on:
        field = next((name for name in ("voila_args", "lab_args") if hasattr(args, name)), None)
        if field is None:
            parser.error("only 'serve' and 'lab' take arguments after -- (they go to Voila or JupyterLab)")
        setattr(args, field, getattr(args, field) + passed_on)
    try:
        for name, folder in (("out", args.run is _export), ("checkpoints", True), ("folder", True)):
            if getattr(args, name, None):
                ensure_writable(getattr(args, name), folder)
        return args.run(args)
    except (ValueError, TypeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped (Ctrl-C); the run's results were not written.", file=sys.stderr)
        return 130
