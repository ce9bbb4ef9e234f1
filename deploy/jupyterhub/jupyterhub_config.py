"""JupyterHub for a class on one larger server (The Littlest JupyterHub style), serving the grutools dashboards.

Every student logs in and gets a server of their own, with Voila inside it; they land on
the dashboards' index (``/user/NAME/voila/tree``). Idle servers are stopped by
``jupyterhub-idle-culler`` and come back by themselves on the next visit. Memory and CPU
limits are set per student; the SystemdSpawner (``pip install jupyterhub-systemdspawner``,
as TLJH uses) enforces them, the LocalProcessSpawner does not (grutools' kernels still cap
their own memory at 85% of the limit).

Install on the server, into the environment the hub runs from::

    pip install torch==2.13.0 grutools-*.whl jupyterhub jupyterhub-idle-culler
    npm install -g configurable-http-proxy
    python -m grutools build                      # the fast GRU, compiled once for everyone
    jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

Settings you may change without editing this file (environment variables of the hub):
``GRUTOOLS_HUB_MEM_LIMIT`` (default ``1G`` per student), ``GRUTOOLS_HUB_CPU_LIMIT`` (``1``),
``GRUTOOLS_HUB_IDLE_TIMEOUT`` (seconds, ``3600``), ``GRUTOOLS_HUB_PORT`` (``8000``), ``GRUTOOLS_HUB_TALLY``
(the shared SQLite file of the class's predictions; unset: none is kept).
Choose a real authenticator for a class (your institution's OAuth, or TLJH's
FirstUseAuthenticator): the default here is PAM, the machine's own user accounts.
"""

import os

from grutools.classroom import hub

c = get_config()  # noqa: F821 (JupyterHub provides it)

# --- where students connect, and who they are -------------------------------------------------------
c.JupyterHub.bind_url = f"http://:{os.environ.get('GRUTOOLS_HUB_PORT', '8000')}"
c.JupyterHub.authenticator_class = "pam"  # replace with your institution's; see the docstring

# --- each student's server: Voila with the grutools template, landing on the dashboards -------------
try:
    import systemdspawner  # noqa: F401

    c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"  # enforces mem_limit and cpu_limit
except ImportError:
    c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"  # passes them on, enforces neither
c.Spawner.cmd = hub.single_user_command()
c.Spawner.args = hub.single_user_args()
c.Spawner.environment = hub.single_user_environment(tally=os.environ.get("GRUTOOLS_HUB_TALLY"))
c.Spawner.notebook_dir = hub.notebook_dir()
c.Spawner.default_url = hub.LANDING
c.Spawner.mem_limit = os.environ.get("GRUTOOLS_HUB_MEM_LIMIT", "1G")  # a kernel with torch: 240-330 MB
c.Spawner.cpu_limit = float(os.environ.get("GRUTOOLS_HUB_CPU_LIMIT", "1"))
c.Spawner.start_timeout = 120  # a class logging in at once, on a few cores
c.Spawner.http_timeout = 120

# --- idle servers are stopped, and a stopped server comes back on the next visit --------------------
timeout = int(os.environ.get("GRUTOOLS_HUB_IDLE_TIMEOUT", "3600"))
c.JupyterHub.services = [hub.culler_service(timeout=timeout, every=max(5, min(300, timeout // 4)))]
c.JupyterHub.load_roles = [hub.culler_role()]
c.JupyterHub.implicit_spawn_seconds = 1  # no "launch server" button: the dashboard just comes back
