"""The systemd unit for a real server (deploy/systemd/grutools.service): it says what a service manager needs, and
systemd itself finds nothing wrong with it (``systemd-analyze verify``, where the machine has it)."""

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grutools.cli import build_parser

UNIT = Path(__file__).resolve().parent.parent / "deploy" / "systemd" / "grutools.service"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_the_unit_restarts_on_failure_stops_by_sigterm_in_time_and_caps_memory():
    service = unit()["Service"]
    assert service["Restart"] == "on-failure" and float(service["RestartSec"]) > 0
    assert service["KillSignal"] == "SIGTERM" and service["KillMode"] == "mixed"
    assert float(service["TimeoutStopSec"]) > 15  # grutools serve stops everything within 15 s
    assert service["MemoryMax"].endswith("G") and service["MemoryHigh"].endswith("G")
    assert int(unit()["Unit"]["StartLimitBurst"]) >= 1  # no tight restart loop
    assert service["User"] != "root"


def test_the_unit_runs_grutools_serve_with_a_bind_address_the_command_line_accepts():
    command = shlex.split(unit()["Service"]["ExecStart"])
    assert Path(command[0]).name == "grutools" and command[1] == "serve"
    args = build_parser().parse_args(command[1:])
    assert args.ip == "0.0.0.0" and 1 <= args.port <= 65535 and args.max_kernels >= 1


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze on this machine")
def test_systemd_analyze_verify_finds_nothing(tmp_path):
    grutools = Path(sys.executable).with_name("grutools")
    text = UNIT.read_text().replace("/srv/grulab/venv/bin/grutools", str(grutools))
    text = text.replace("WorkingDirectory=/srv/grulab", f"WorkingDirectory={tmp_path}")
    copy = tmp_path / "grutools.service"
    copy.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    said = [line for line in (result.stdout + result.stderr).splitlines() if str(copy) in line or "grutools" in line]
    assert result.returncode == 0 and not said, result.stdout + result.stderr
    broken = tmp_path / "broken.service"
    broken.write_text(text.replace("Restart=on-failure", "Restart=sometimes"))  # the check can fail
    result = subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, timeout=60)
    assert "restart" in (result.stdout + result.stderr).lower()
