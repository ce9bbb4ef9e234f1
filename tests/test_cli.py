import subprocess
import sys

import pytest

import grutools
from grutools.cli import main


def test_help_explains_every_command():
    result = subprocess.run([sys.executable, "-m", "grutools", "--help"], capture_output=True, text=True, check=True)
    assert "train" in result.stdout and "info" in result.stdout
    for command in ("train", "info"):
        out = subprocess.run([sys.executable, "-m", "grutools", command, "--help"], capture_output=True, text=True)
        assert out.returncode == 0 and "usage" in out.stdout


def test_train_saves_a_loadable_model_with_a_progress_bar(tmp_path, capsys):
    path = tmp_path / "adding.pt"
    code = main(["train", "--task", "adding", "--cell", "gru", "--length", "20", "--steps", "12", "--hidden", "6",
                 "--out", str(path)])
    assert code == 0
    captured = capsys.readouterr()
    assert "12/12" in captured.err  # tqdm's progress bar
    assert "Saved to" in captured.out
    checkpoint = grutools.load(path)
    assert checkpoint.model.hidden_size == 6 and len(checkpoint.history.loss) == 12
    assert main(["info", str(path)]) == 0
    assert "12 steps" in capsys.readouterr().out


def test_errors_are_one_line_not_tracebacks(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_text("nope")
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert main(["train", "--length", "1", "--out", str(tmp_path / "x.pt")]) == 2
    assert "length" in capsys.readouterr().err


def test_a_place_that_cannot_be_written_fails_before_the_work(tmp_path, capsys, monkeypatch):
    from grutools import cli

    ran = []
    monkeypatch.setattr(cli, "_race_table", lambda args: ran.append(args) or 0)  # the hour-long study, not run
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    # a folder where a file is asked for, and a folder "inside" a file: refused at once, nothing run
    assert main(["race-table", "--out", str(tmp_path)]) == 2
    assert "is a folder; give a file name" in capsys.readouterr().err
    assert main(["train", "--out", str(blocker / "model.pt")]) == 2
    assert f"cannot write {blocker / 'model.pt'}" in capsys.readouterr().err
    assert main(["counting-study", "--checkpoints", str(blocker / "checkpoints")]) == 2
    assert main(["export", "--out", str(blocker / "site")]) == 2
    assert main(["lab", str(blocker / "notebooks"), "--no-browser"]) == 2
    assert "nothing was run" in capsys.readouterr().err
    # a place that can be written: made, left empty of our check file, and the command runs
    assert cli.main(["race-table", "--quiet", "--out", str(tmp_path / "new" / "race.csv")]) == 0
    assert ran and list((tmp_path / "new").iterdir()) == []


def test_a_port_out_of_range_is_refused_by_the_parser(capsys):
    for port in ("0", "65536", "http"):
        with pytest.raises(SystemExit):
            main(["serve", "--port", port])
        assert "a port is a whole number from 1 to 65535" in capsys.readouterr().err
