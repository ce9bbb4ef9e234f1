"""The JupyterHub deployment files (grutools.classroom.hub, deploy/jupyterhub/): settings derived from voila.json, checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grutools.classroom import hub
from grutools.core.resources import notebooks_dir

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "jupyterhub"


def test_single_user_args_reach_voila_and_the_kernel_manager_as_voila_json_says():
    """Parsed by a real Jupyter server application, the arguments give the settings of the shipped voila.json."""
    from jupyter_server.serverapp import ServerApp
    from voila.configuration import VoilaConfiguration

    shipped = json.loads((ROOT / "voila.json").read_text())
    app = ServerApp()
    app.parse_command_line(hub.single_user_args())
    voila = VoilaConfiguration(parent=app)
    for key in hub.EXTENSION_SETTINGS:
        assert getattr(voila, key) == shipped["VoilaConfiguration"][key], key
    for key, value in shipped["MappingKernelManager"].items():
        assert app.config.MappingKernelManager[key] == value
    size = shipped["Voila"]["tornado_settings"]["websocket_max_message_size"]
    assert app.tornado_settings["websocket_max_message_size"] == size  # uploads of dashboard 06 get through
    # the stand-alone server's kernel pools and classroom manager are not passed to a hub's servers
    assert not any("preheat" in arg or "multi_kernel_manager_class" in arg for arg in hub.single_user_args())


def test_hub_config_command_writes_the_same_settings(tmp_path, capsys):
    from grutools.cli import main

    out = tmp_path / "etc" / "jupyter_server_config.d" / "grutools.json"
    assert main(["hub-config", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == hub.server_config()
    assert json.loads(out.read_text())["VoilaConfiguration"]["template"] == "grulab"


def load_config(path: Path):
    from traitlets.config import Config

    config = Config()
    exec(compile(path.read_text(), str(path), "exec"), {"get_config": lambda: config, "__file__": str(path)})
    return config


def test_the_shipped_jupyterhub_config_lands_culls_and_limits(monkeypatch):
    monkeypatch.setenv("GRUTOOLS_HUB_MEM_LIMIT", "2G")
    c = load_config(DEPLOY / "jupyterhub_config.py")
    assert c.Spawner.default_url == "/voila/tree" == hub.LANDING
    assert c.Spawner.notebook_dir == str(notebooks_dir())
    assert c.Spawner.args == hub.single_user_args()
    assert c.Spawner.mem_limit == "2G" and c.Spawner.cpu_limit == 1.0
    assert c.Spawner.environment["OMP_NUM_THREADS"] == "1"
    culler = c.JupyterHub.services[0]
    assert culler["name"] == "idle-culler" and "jupyterhub_idle_culler" in culler["command"]
    assert "--timeout=3600" in culler["command"]
    assert set(c.JupyterHub.load_roles[0]["scopes"]) >= {"delete:servers", "read:users:activity"}
    assert c.JupyterHub.implicit_spawn_seconds == 1


def test_the_kubernetes_values_and_image_match_the_one_server_hub():
    yaml = pytest.importorskip("yaml")
    values = yaml.safe_load((DEPLOY / "values.yaml").read_text())
    user = values["singleuser"]
    assert user["defaultUrl"] == hub.LANDING
    assert user["notebookDir"].endswith("grutools/_shipped/notebooks")
    assert user["memory"]["limit"] == "1G" and user["cpu"]["limit"] == 1
    assert values["cull"]["enabled"] and values["cull"]["timeout"] == 3600
    assert values["hub"]["config"]["JupyterHub"]["implicit_spawn_seconds"] == 1
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "torch==2.13.0" in dockerfile and "dist/grutools-*.whl" in dockerfile
    assert "python -m grutools build" in dockerfile  # the fast GRU compiled into the image
    assert "grutools hub-config --out /etc/jupyter/jupyter_server_config.d/grutools.json" in dockerfile


def test_a_kernel_under_a_hub_takes_its_memory_limit_from_the_spawner(monkeypatch):
    import resource

    from grutools.classroom import limit_memory

    monkeypatch.delenv("GRUTOOLS_MEMORY_LIMIT_MB", raising=False)
    monkeypatch.setenv("MEM_LIMIT", str(4 * 2**30))
    calls = []
    monkeypatch.setattr(resource, "setrlimit", lambda kind, limits: calls.append((kind, limits)))
    assert limit_memory() == int(0.85 * 4 * 1024)
    assert calls == [(resource.RLIMIT_DATA, (int(0.85 * 4 * 1024) * 2**20,) * 2)]
    monkeypatch.setenv("GRUTOOLS_MEMORY_LIMIT_MB", "900")  # grutools' own limit wins
    assert limit_memory() == 900
    monkeypatch.delenv("GRUTOOLS_MEMORY_LIMIT_MB")
    monkeypatch.setenv("MEM_LIMIT", "lots")  # not a number: no limit, no crash
    assert limit_memory() is None
