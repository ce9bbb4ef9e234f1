"""The command line of serving a class: ``grutools serve`` and ``grutools lab`` (see ``grutools.cli``)."""

from __future__ import annotations

import argparse


def _serve(args: argparse.Namespace) -> int:
    from .serve import class_settings, serve

    extra = class_settings(args.max_kernels, args.pool_size, args.lesson, args.class_size)
    return serve(port=args.port, ip=args.ip, extra_args=extra + args.voila_args, tally=args.tally,
                 questions=not args.no_questions)


def _lab(args: argparse.Namespace) -> int:
    from .serve import lab

    return lab(args.folder, extra_args=(["--no-browser"] if args.no_browser else []) + args.lab_args)


def add_commands(commands: argparse._SubParsersAction, port_number) -> None:
    """Add ``serve`` and ``lab`` to the command line's sub-commands (``port_number`` parses a port)."""
    p = commands.add_parser("serve", help="serve the dashboards with Voila (from any folder)",
                            description="Serve every dashboard with Voila, with grutools' own template and classroom "
                                        "settings (the shipped voila.json). Students open http://SERVER:PORT/; the "
                                        "teacher's page of the class's predictions is at the address printed at "
                                        "start. Anything after -- goes to Voila as it is.")
    p.add_argument("--port", type=port_number, default=8866, help="port (default: 8866)")
    p.add_argument("--ip", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 for a classroom)")
    p.add_argument("--max-kernels", type=int, help="most dashboards open at once (default: voila.json's, 40)")
    p.add_argument("--pool-size", type=int, help="pre-heated kernels per dashboard (default: 1)")
    p.add_argument("--lesson", help="the dashboard the class will open, e.g. 02_gates_over_time (with --class-size)")
    p.add_argument("--class-size", type=int, help="students in the lesson: that many pre-heated kernels for it")
    p.add_argument("--tally", metavar="PATH",
                   help="the SQLite file of the class's predictions, kept across restarts (default: "
                        "~/.cache/grutools/server/tally.sqlite3; for a hub on one machine, a path every user's "
                        "server can write)")
    p.add_argument("--no-questions", action="store_true",
                   help="the dashboards ask no prediction questions (for a demo)")
    p.add_argument("voila_args", nargs="*", help=argparse.SUPPRESS)
    p.set_defaults(run=_serve)

    p = commands.add_parser("lab", help="copy the notebooks into a folder of yours and open JupyterLab there",
                            description="Copy the dashboards' notebooks into FOLDER (a notebook already there is kept, "
                                        "so your edits survive) and open JupyterLab in it. Anything after -- goes to "
                                        "JupyterLab as it is.")
    p.add_argument("folder", nargs="?", default="grutools-notebooks", help="where (default: ./grutools-notebooks)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("lab_args", nargs="*", help=argparse.SUPPRESS)
    p.set_defaults(run=_lab)
