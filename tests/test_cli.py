import subprocess
import sys

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
