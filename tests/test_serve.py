"""``grutools serve`` and ``grutools lab``: their settings and the notebook copy (served for real in test_package.py)."""

import json

import pytest

from grutools import cli
from grutools.classroom.serve import class_settings, copy_notebooks, environment, voila_command
from grutools.classroom.template import SERVED
from grutools.core.resources import notebook_names, notebooks_dir, root
from grutools.testing.serving import preheat_args


def test_lab_copies_the_notebooks_and_never_overwrites_the_users_edits(tmp_path):
    shipped = sorted(p.name for p in notebooks_dir().glob("*.ipynb"))
    copied, kept = copy_notebooks(tmp_path / "mine")
    assert sorted(p.name for p in copied) == shipped and kept == []
    edited = tmp_path / "mine" / shipped[0]
    edited.write_text("my own edits")
    copied, kept = copy_notebooks(tmp_path / "mine")
    assert copied == [] and [p.name for p in kept] == shipped
    assert edited.read_text() == "my own edits"


def test_lab_refuses_a_file_for_a_folder(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        copy_notebooks(tmp_path / "f")


def test_class_settings_size_the_lessons_pool_and_the_cap():
    args = class_settings(max_kernels=60, lesson="02_gates_over_time", class_size=30)
    assert "--ClassroomKernelManager.max_kernels=60" in args
    pools = json.loads(next(a for a in args if "kernel_pools_config" in a).split("=", 1)[1])
    assert pools == {"default": {"pool_size": 1}, "02_gates_over_time.ipynb": {"pool_size": 30}}
    assert class_settings() == []


@pytest.mark.parametrize("kwargs, message", [
    ({"lesson": "99_nothing", "class_size": 3}, "is not a dashboard"),
    ({"lesson": "02_gates_over_time"}, "needs --class-size"),
    ({"class_size": 30}, "goes with --lesson"),
    ({"max_kernels": 0}, "at least 1"),
    ({"pool_size": -1}, "cannot be negative"),
])
def test_class_settings_refuse_what_makes_no_sense(kwargs, message):
    with pytest.raises(ValueError, match=message):
        class_settings(**kwargs)


def test_the_command_line_says_what_is_wrong_without_a_traceback(capsys):
    assert cli.main(["serve", "--lesson", "nope", "--class-size", "3"]) == 2
    assert "is not a dashboard" in capsys.readouterr().err


def test_a_test_server_preheats_every_dashboard_none_or_the_named_ones():
    assert preheat_args() == [] and preheat_args(True) == []  # as served: a pool for every dashboard
    assert preheat_args(False) == preheat_args([]) == ["--VoilaConfiguration.preheat_kernel=False"]
    (arg,) = preheat_args(["05_memory_timescales.ipynb"])
    section, pools = arg.split("=", 1)
    assert section == "--VoilaKernelManager.kernel_pools_config"
    assert json.loads(pools) == {"default": {"pool_size": 0}, "05_memory_timescales.ipynb": {"pool_size": 1}}
    with pytest.raises(ValueError, match="not dashboards: 5_memory.ipynb"):
        preheat_args(["5_memory.ipynb", notebook_names()[0]])


def test_voila_serves_the_shipped_notebooks_with_our_template_first():
    command = voila_command(9999, "0.0.0.0", ["--x=1"])
    assert str(notebooks_dir()) in command and "--port=9999" in command and command[-1] == "--x=1"
    assert (root() / "voila.json").is_file()  # Voila starts there and reads it
    env = environment(base={"JUPYTER_PATH": "/elsewhere"})
    first = env["JUPYTER_PATH"].split(":")[0]
    assert first.endswith("share/jupyter") and env["JUPYTER_PATH"].endswith(":/elsewhere")
    assert env[SERVED].startswith(first)


def test_version_is_one_and_printed(capsys):
    import grutools

    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.strip() == f"grutools {grutools.__version__}"


def test_serve_keeps_the_class_tally_where_told_and_starts_without_one_it_cannot_write(tmp_path, capsys, monkeypatch):
    from grutools.classroom.serve import _teacher_address, class_environment
    from grutools.core.tally import QUESTIONS, TALLY

    monkeypatch.delenv(TALLY, raising=False)
    env = class_environment(tmp_path / "t.sqlite3")
    assert env[TALLY] == str((tmp_path / "t.sqlite3").resolve()) and env[QUESTIONS] == "on"
    address = _teacher_address(env, "127.0.0.1", 8866, chosen=True)
    assert address.startswith("http://127.0.0.1:8866/teacher?token=") and (tmp_path / "t.sqlite3").exists()
    assert address == _teacher_address(env, "127.0.0.1", 8866, chosen=True)  # the same token after a restart
    off = class_environment(tmp_path / "t.sqlite3", questions=False)
    assert TALLY not in off and off[QUESTIONS] == "off" and _teacher_address(off, "h", 1, chosen=False) is None
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    unwritable = class_environment(blocker / "t.sqlite3")
    with pytest.raises(ValueError, match="--tally PATH"):  # a tally the teacher chose must work
        _teacher_address(dict(unwritable), "h", 1, chosen=True)
    assert _teacher_address(unwritable, "h", 1, chosen=False) is None  # the default one only costs the page
    assert TALLY not in unwritable and "starts without the teacher's page" in capsys.readouterr().err
