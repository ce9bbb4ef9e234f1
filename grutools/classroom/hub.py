"""The dashboards through JupyterHub: what each student's single-user server needs, from the shipped settings.

With JupyterHub, every student gets a server of their own (``jupyterhub-singleuser``),
and Voilà runs inside it as a Jupyter server extension: the dashboards are at
``/user/NAME/voila/render/02_gates_over_time.ipynb``. Isolation then comes from the hub (one
server, one process tree, per student), and culling and limits are the hub's business.

This module turns the shipped ``voila.json`` into the single-user server's settings, so
that a hub serves the dashboards exactly as ``grutools serve`` does (same template,
theme, stripped sources, no tracebacks, kernel culling), and gives the culler service
and its role. ``deploy/jupyterhub/jupyterhub_config.py`` uses it.
"""

from __future__ import annotations

import json
import sys

from ..core.resources import notebooks_dir, root

LANDING = "/voila/tree"  # the dashboards' index, where a student lands after logging in
# VoilaConfiguration settings that apply to Voila as a server extension (the pre-heated kernel pools and the
# classroom kernel manager belong to the stand-alone Voila of `grutools serve`: with a hub, each student's server
# has its own kernel or two)
EXTENSION_SETTINGS = ("template", "theme", "strip_sources", "show_tracebacks", "extension_denylist")
CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]


def _cli(value) -> str:
    """A setting's value as traitlets reads it on the command line."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    return json.dumps(value)


def server_config(settings: dict | None = None) -> dict:
    """The single-user server's Jupyter config, from the shipped ``voila.json``: Voilà's template and page
    settings, and kernel culling. As a file (``grutools hub-config``) it goes into an image's
    ``/etc/jupyter/jupyter_server_config.d/``; as arguments, see :func:`single_user_args`."""
    settings = settings if settings is not None else json.loads((root() / "voila.json").read_text())
    config = {"VoilaConfiguration": {key: value for key, value in settings.get("VoilaConfiguration", {}).items()
                                     if key in EXTENSION_SETTINGS},
              "MappingKernelManager": dict(settings.get("MappingKernelManager", {}))}
    size = settings.get("Voila", {}).get("tornado_settings", {}).get("websocket_max_message_size")
    if size:  # the largest upload (dashboard 06) a page may send over the kernel's websocket
        config["ServerApp"] = {"tornado_settings": {"websocket_max_message_size": size}}
    return config


def single_user_args(settings: dict | None = None) -> list[str]:
    """``jupyterhub-singleuser`` arguments carrying :func:`server_config` (for spawners that start a local command)."""
    return [f"--{section}.{key}={_cli(value)}" for section, values in server_config(settings).items()
            for key, value in values.items()]


def single_user_environment(threads: int = 1, tally: str | None = None) -> dict[str, str]:
    """Environment of a student's server and its kernels: our template on ``JUPYTER_PATH``, one torch thread.

    ``tally``: the class's predictions go to this SQLite file, on a path every student's server can write
    (docs/teachers.md, "Predict, then check on a hub")."""
    from ..core.tally import TALLY
    from .serve import environment

    env = {key: value for key, value in environment(base={}).items()}
    env.update(OMP_NUM_THREADS=str(threads), GRUTOOLS_TORCH_THREADS=str(threads))
    if tally:
        env[TALLY] = tally
    return env


def single_user_command() -> list[str]:
    """The single-user server of this Python (the environment grutools is installed in)."""
    return [sys.executable, "-m", "jupyterhub.singleuser"]


def culler_service(timeout: int = 3600, every: int = 300, name: str = "idle-culler") -> dict:
    """A hub-managed ``jupyterhub-idle-culler`` service: stops servers idle for ``timeout`` seconds."""
    return {"name": name, "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={timeout}",
                                      f"--cull-every={every}"]}


def culler_role(name: str = "idle-culler") -> dict:
    """The role the culler service needs (JupyterHub 2+): see users' activity and stop their servers."""
    return {"name": name, "scopes": list(CULLER_SCOPES), "services": [name]}


def notebook_dir() -> str:
    """The folder each student's server opens: the shipped dashboards (the package's copy; read-only is fine)."""
    return str(notebooks_dir())
