"""``grutools serve`` and ``grutools lab``: the dashboards from any folder, with the shipped template and settings.

``serve`` runs Voilà on the shipped notebooks, started in the folder that holds the
shipped ``voila.json`` (Voilà reads its settings from the folder it starts in), with
our template first on ``JUPYTER_PATH``. ``lab`` copies the notebooks into a folder of
the user's own, so their edits never touch ``site-packages``, and opens JupyterLab there.
``make dashboards`` and the browser tests start Voilà through the same
:func:`voila_command` and :func:`environment`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..core.resources import cache_dir, notebook_names, notebooks_dir, root
from ..core.tally import QUESTIONS, TALLY, Tally, TallyError
from .template import SERVED, prepare


def environment(template: Path | None = None, base: dict | None = None) -> dict:
    """The environment for Voilà (and its kernels): our template first on ``JUPYTER_PATH``, and where its bundle is."""
    template = template or prepare()
    env = dict(os.environ if base is None else base)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(template.parents[2]), env.get("JUPYTER_PATH")]))
    env[SERVED] = str(template)
    return env


def class_settings(max_kernels: int | None = None, pool_size: int | None = None, lesson: str | None = None,
                   class_size: int | None = None) -> list[str]:
    """Voilà command-line settings for a class: the kernel cap, pre-heated pools, one pool sized to the lesson."""
    args = []
    if max_kernels is not None:
        if max_kernels < 1:
            raise ValueError(f"--max-kernels must be at least 1; got {max_kernels}.")
        args.append(f"--ClassroomKernelManager.max_kernels={max_kernels}")
    if lesson is not None or class_size is not None or pool_size is not None:
        pools = {"default": {"pool_size": 1 if pool_size is None else pool_size}}
        if lesson is not None:
            name = lesson if lesson.endswith(".ipynb") else f"{lesson}.ipynb"
            known = notebook_names()
            if name not in known:
                raise ValueError(f"--lesson {lesson!r} is not a dashboard; choose one of {', '.join(known)}.")
            if class_size is None or class_size < 1:
                raise ValueError("--lesson needs --class-size N (the students who will open it), N at least 1.")
            pools[name] = {"pool_size": class_size}
        elif class_size is not None:
            raise ValueError("--class-size goes with --lesson NOTEBOOK (the dashboard the class will open).")
        if any(p["pool_size"] < 0 for p in pools.values()):
            raise ValueError("pool sizes cannot be negative.")
        args.append("--VoilaKernelManager.kernel_pools_config=" + json.dumps(pools))
    return args


def voila_command(port: int = 8866, ip: str = "127.0.0.1", extra_args: list[str] | None = None) -> list[str]:
    """The command that serves the shipped notebooks; run it in :func:`grutools.core.resources.root` (for ``voila.json``)."""
    return [sys.executable, "-m", "grutools.classroom.voila_app", str(notebooks_dir()), f"--port={port}", f"--Voila.ip={ip}",
            "--no-browser", *(extra_args or [])]


def default_tally() -> Path:
    """Where ``grutools serve`` keeps the class's predictions unless told (``--tally``): ``$GRUTOOLS_TALLY``, else
    the server's folder in grutools' cache, ``~/.cache/grutools/server/tally.sqlite3``."""
    return Path(os.environ.get(TALLY) or cache_dir() / "server" / "tally.sqlite3")


def class_environment(tally: str | os.PathLike | None = None, questions: bool = True, base: dict | None = None) -> dict:
    """:func:`environment`, plus the class's tally (``$GRUTOOLS_TALLY``; none with ``questions=False``) and whether
    the dashboards ask questions (``$GRUTOOLS_QUESTIONS``)."""
    env = environment(base=base)
    env.pop(TALLY, None)
    if questions:
        env[TALLY] = str(Path(tally or default_tally()).expanduser().resolve())
    env[QUESTIONS] = "on" if questions else "off"
    return env


def _teacher_address(env: dict, host: str, port: int, chosen: bool) -> str | None:
    """Ready the class's tally and the teacher's token; the teacher's page's address, or ``None`` without one.

    A tally the user chose (``--tally``) that cannot be written is an error (``ValueError``); the default
    one, in a cache folder that cannot be written, only costs the teacher's page: the server still starts."""
    from .teacher import teacher_token

    if TALLY not in env:
        return None
    try:
        Tally(env[TALLY])
        return f"http://{host}:{port}/teacher?token={teacher_token(env[TALLY])}"
    except (TallyError, OSError) as error:
        if chosen:
            raise ValueError(f"{error}. Give a folder you can write with --tally PATH.") from None
        print(f"grutools: {error}; the server starts without the teacher's page (--tally PATH to keep the class's "
              "predictions elsewhere).", file=sys.stderr, flush=True)
        del env[TALLY]
        return None


def serve(port: int = 8866, ip: str = "127.0.0.1", extra_args: list[str] | None = None,
          tally: str | os.PathLike | None = None, questions: bool = True) -> int:
    """Serve every dashboard with Voilà until interrupted; returns Voilà's exit code.

    The class's predictions are kept in ``tally`` (default :func:`default_tally`); the teacher's page's
    address, with its token, is printed. ``questions=False`` turns every dashboard's questions off."""
    command = voila_command(port, ip, extra_args)
    env = class_environment(tally, questions)
    host = '127.0.0.1' if ip in ('0.0.0.0', '::') else ip
    address = _teacher_address(env, host, port, chosen=tally is not None or bool(os.environ.get(TALLY)))
    print(f"grutools: serving the dashboards on http://{host}:{port}/ "
          f"(Ctrl-C or SIGTERM stops it and its kernels). Settings: {root() / 'voila.json'}", flush=True)
    if address:
        print(f"grutools: the teacher's page (keep this address to yourself): {address}\n"
              f"grutools: the class's predictions are kept in {env[TALLY]}.", flush=True)
    elif not questions:
        print("grutools: the dashboards ask no questions (--no-questions).", flush=True)
    code = _run(command, cwd=root(), env=env)
    for folder in remove_stale_connection_folders():  # what a Voila that had to be killed could not remove itself
        print(f"grutools: removed {folder}, the kernel connection folder of the server that was killed.", flush=True)
    return code


OWNER = "grutools-server.pid"  # in a Voila connection folder: the process id of the server that made it


def remove_stale_connection_folders(root: Path | None = None) -> list[Path]:
    """Remove the Voila connection folders under ``root`` (the temp folder) whose server process is gone.

    A server killed outright never runs its own clean-up; the folders of live servers, and
    folders that carry no readable mark, are left alone. Returns the folders removed."""
    removed = []
    for marker in Path(tempfile.gettempdir() if root is None else root).glob(f"voila_*/{OWNER}"):
        try:
            pid = int(marker.read_text())
            os.kill(pid, 0)  # raises if no such process
            continue
        except ProcessLookupError:
            pass
        except (ValueError, OSError):
            continue  # unreadable, or another user's live process: leave it
        shutil.rmtree(marker.parent, ignore_errors=True)
        removed.append(marker.parent)
    return removed


def copy_notebooks(folder: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """Copy the shipped notebooks into ``folder``; ``(copied, kept)``: a notebook already there is never overwritten."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file; give a folder for the notebooks.")
    folder.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for notebook in sorted(notebooks_dir().glob("*.ipynb")):
        target = folder / notebook.name
        if target.exists():
            kept.append(target)
        else:
            shutil.copyfile(notebook, target)
            copied.append(target)
    return copied, kept


def lab(folder: str | os.PathLike = "grutools-notebooks", extra_args: list[str] | None = None) -> int:
    """Copy the notebooks into ``folder`` (keeping the user's edited copies) and open JupyterLab there."""
    copied, kept = copy_notebooks(folder)
    folder = Path(folder).expanduser().resolve()
    print(f"grutools: {len(copied)} notebook(s) copied into {folder}"
          + (f"; kept your own copies of {', '.join(p.name for p in kept)}" if kept else "") + ".", flush=True)
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={folder}", *(extra_args or [])]
    return _run(command, cwd=folder, env=environment())


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GRACE_S = 10.0  # how long the server may take to shut its kernels down before it is killed
ORPHAN_GRACE_S = 3.0  # then how long a kernel it left may take to end on SIGTERM before SIGKILL
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36


PR_GET_CHILD_SUBREAPER = 37
MARK = "GRUTOOLS_SERVER_RUN"  # in the server's environment (and so its kernels'): what _run may end, and nothing else


@functools.lru_cache(maxsize=1)
def _libc_prctl():
    """Linux's ``prctl``, looked up once in the parent (never between fork and exec); ``None`` elsewhere."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _prctl(option: int, value: int) -> bool:
    """``prctl(option, value)``; False where there is no such call (not Linux)."""
    prctl = _libc_prctl()
    return prctl is not None and prctl(option, value, 0, 0, 0) == 0


def die_with(parent: int) -> None:
    """In a child, before it runs its program (``preexec_fn``): a SIGTERM when ``parent`` ends, even by SIGKILL.

    Call ``_libc_prctl()`` once in the parent before the fork, as ``_run`` does. The signal follows the end
    of the parent's *thread* that started the child: start it from the main thread.
    """
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def child_processes(parent: int) -> list[int]:
    """The live (not zombie) children of ``parent``, read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent and fields[0] != "Z":
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _marked_children(parent: int, mark: str) -> list[int]:
    """The live children of ``parent`` that carry ``MARK=mark`` in their environment (read from /proc)."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for pid in child_processes(parent):
        try:
            if needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                found.append(pid)
        except OSError:
            continue
    return found


def end_processes(pids: list[int], grace: float = 3.0) -> None:
    """SIGTERM ``pids`` (our children), then SIGKILL what is left after ``grace`` seconds; reap them all."""
    for signal_number, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal_number)
        deadline = time.monotonic() + wait
        while pids and time.monotonic() < deadline:
            pids = _reap(pids)
            if pids:
                time.sleep(0.05)
        if not pids:
            return


def _reap(pids: list[int]) -> list[int]:
    """Collect the exit of those of ``pids`` that ended; returns the ones still running."""
    running = []
    for pid in pids:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] != pid:
                running.append(pid)
        except ChildProcessError:
            pass
    return running


def _end_orphans(parent: int, mark: str) -> int:
    """End what the server left behind (its kernels, re-parented to us as a subreaper): SIGTERM, then SIGKILL.

    Only processes carrying this run's mark are touched. Returns how many could not be ended."""
    for signal_number, grace in ((signal.SIGTERM, ORPHAN_GRACE_S), (signal.SIGKILL, 5.0)):
        deadline = time.monotonic() + grace
        signalled: set[int] = set()
        while time.monotonic() < deadline:
            orphans = _reap(_marked_children(parent, mark))  # more may be re-parented to us meanwhile
            if not orphans:
                return 0
            for pid in set(orphans) - signalled:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)  # a stopped process would not act on SIGTERM
                    os.kill(pid, signal_number)
                signalled.add(pid)
            time.sleep(0.05)
    return len(_reap(_marked_children(parent, mark)))


def _run(command: list[str], cwd: Path, env: dict) -> int:
    """Run a server (Voilà or JupyterLab) that cannot outlive this process, until it ends or a signal stops it.

    SIGTERM (systemd, docker stop, ``kill``), SIGINT (Ctrl-C) and SIGHUP (a closed terminal)
    all stop it the same way: the server gets SIGTERM and shuts its kernels down; past
    ``GRACE_S`` it is killed, and any process it left is ended. If this process is killed
    outright (SIGKILL), the kernel's parent-death signal sends the server SIGTERM, and its
    kernels end with it (ipykernel watches its parent). Returns the server's exit code, 0
    after a stop by signal.
    """
    parent = os.getpid()
    mark = f"{parent}-{time.monotonic_ns()}"
    env = {**env, MARK: mark}
    was_subreaper = ctypes.c_int(0)
    prctl = _libc_prctl()
    if prctl is not None:
        prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(was_subreaper), 0, 0, 0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # what the server leaves behind is re-parented to us, so we can end it
    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True,
                               preexec_fn=functools.partial(die_with, parent))
    received: list[int] = []

    def on_signal(number, _frame) -> None:
        if not received:
            print(f"grutools: {signal.Signals(number).name} received: stopping the server and its kernels "
                  f"(at most {GRACE_S + ORPHAN_GRACE_S:.0f} s)...", flush=True)
        received.append(number)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)

    previous = {number: signal.signal(number, on_signal) for number in STOP_SIGNALS}
    try:
        deadline = None
        while process.poll() is None:
            if received and deadline is None:
                deadline = time.monotonic() + GRACE_S
            if deadline is not None and time.monotonic() > deadline:
                print(f"grutools: the server did not stop within {GRACE_S:.0f} s; killing it.", flush=True)
                process.kill()
                process.wait()
                break
            time.sleep(0.1)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        left = _end_orphans(parent, mark)
        if not was_subreaper.value:
            _prctl(PR_SET_CHILD_SUBREAPER, 0)  # as it was, for a caller that runs serve() in its own process
    if received:
        print("grutools: stopped" + (f"; {left} process(es) could not be ended" if left else "; the port is free") + ".",
              flush=True)
        return 0
    return process.returncode
