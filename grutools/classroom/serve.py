"""``grutools serve`` and ``grutools lab``: the dashboards from any folder, with the shipped template and settings.

``serve`` runs Voilà on the shipped notebooks, started in the folder that holds the
shipped ``voila.json`` (Voilà reads its settings from the folder it starts in), with
our template first on ``JUPYTER_PATH``. ``lab`` copies the notebooks into a folder of
the user's own, so their edits never touch ``site-packages``, and opens JupyterLab there.
``make dashboards`` and the browser tests start Voilà through the same
:func:`voila_command` and :func:`environment`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..core.resources import notebook_names, notebooks_dir, root
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


def serve(port: int = 8866, ip: str = "127.0.0.1", extra_args: list[str] | None = None) -> int:
    """Serve every dashboard with Voilà until interrupted; returns Voilà's exit code."""
    command = voila_command(port, ip, extra_args)
    print(f"grutools: serving the dashboards on http://{'127.0.0.1' if ip in ('0.0.0.0', '::') else ip}:{port}/ "
          f"(Ctrl-C stops). Settings: {root() / 'voila.json'}", flush=True)
    return _run(command, cwd=root(), env=environment())


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


def _run(command: list[str], cwd: Path, env: dict) -> int:
    process = subprocess.Popen(command, cwd=cwd, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches the child too; let it shut its kernels down
        try:
            return process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            return 130
