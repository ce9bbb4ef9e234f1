"""What `pip install` gives: the wheel and the sdist, installed into a fresh virtual environment, used from elsewhere.

One module-scoped fixture builds the wheel and the sdist once and makes one fresh
virtual environment (torch from the Makefile's pin, everything else from the wheel's
own requirements, through pip's cache). The tests then run that environment's Python
from a folder outside the repository, as a practitioner would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from grutools.testing.serving import (
    CHROMIUM,
    dashboard_url,
    descendants,
    free_port,
    is_alive,
    launch_chromium,
    wait_for_dashboard,
)

ROOT = Path(__file__).resolve().parent.parent
TORCH = re.search(r"^TORCH = (\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
SHIPPED = ["voila.json", "data", "notebooks"]
TEMPLATE = "share/jupyter/voila/templates/grulab"


def run(command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def tracked(folder: str) -> set[str]:
    """The files git tracks under ``folder`` (the repository's own list, independent of setup.py)."""
    out = run(["git", "ls-files", folder], cwd=ROOT).stdout.split()
    return {name for name in out if (ROOT / name).is_file()}


@pytest.fixture(scope="module")
def package():
    """Built wheel and sdist, and a fresh venv with the wheel installed: a dict of paths."""
    top = Path(tempfile.mkdtemp(prefix="grutools-package-"))
    top.chmod(0o755)  # readable by the unprivileged user of the read-only test
    dist, venv, work = top / "dist", top / "venv", top / "work"
    work.mkdir()
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)])
    run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(dist), str(ROOT)])
    base = getattr(sys, "_base_executable", sys.executable)
    run([base, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run([*pip, TORCH])  # first and pinned, as the README says: a CPU build from this machine's disk
    wheel = next(dist.glob("*.whl"))
    run([*pip, str(wheel)])
    site = Path(run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=work).stdout.strip())
    yield {"top": top, "wheel": wheel, "sdist": next(dist.glob("*.tar.gz")), "venv": venv, "work": work,
           "package": site / "grutools"}
    shutil.rmtree(top, ignore_errors=True)


def test_the_wheel_carries_everything_needed_at_run_time(package):
    names = set(zipfile.ZipFile(package["wheel"]).namelist())
    assert "grutools/core/csrc/fast_gru.cpp" in names
    assert "grutools/classroom/teacher.html" in names  # the teacher's page of the class's predictions
    for name in tracked("data") | tracked("notebooks") | {"voila.json"}:
        assert f"grutools/_shipped/{name}" in names, f"{name} is missing from the wheel"
    data = next(n.split("/data/", 1)[0] for n in names if ".data/data/" in n)
    for name in tracked(TEMPLATE):
        assert f"{data}/data/{name}" in names, f"{name} is missing from the wheel"
    assert not any(n.endswith("plotly-widget.js") for n in names)  # made from the installed plotly, never shipped
    metadata = zipfile.ZipFile(package["wheel"]).read(next(n for n in names if n.endswith("METADATA"))).decode()
    import grutools

    assert f"Version: {grutools.__version__}" in metadata and "License-Expression: MIT" in metadata
    assert "Classifier: Programming Language :: Python :: 3.11" in metadata
    # the Python range promised is the one tested: this Python's minor version, and no other
    promised = SpecifierSet(next(line.split(": ", 1)[1] for line in metadata.splitlines()
                                 if line.startswith("Requires-Python: ")))
    here = sys.version_info
    assert f"{here.major}.{here.minor}.0" in promised and f"{here.major}.{here.minor}.99" in promised
    assert f"{here.major}.{here.minor + 1}.0" not in promised and f"{here.major}.{here.minor - 1}.99" not in promised


def test_the_sdist_carries_what_the_wheel_is_built_from(package):
    with tarfile.open(package["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    wanted = tracked("data") | tracked("notebooks") | tracked(TEMPLATE) | tracked("grutools") | {
        "voila.json", "setup.py", "pyproject.toml", "MANIFEST.in", "LICENSE", "README.md"}
    missing = {name for name in wanted if not name.endswith(".py") or name.startswith("grutools/")} - names
    assert not missing, f"missing from the sdist: {sorted(missing)}"


def read_only_command(folder: Path, command: list[str]) -> list[str]:
    """``command`` run where ``folder`` is a read-only mount (a private mount namespace: nothing else sees it)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare, to mount the package folder read-only (root ignores file modes)")
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare --mount is not allowed here: {probe.stderr.decode().strip()}")
    return ["unshare", "--mount", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(folder), *command]


def test_a_read_only_package_folder_builds_into_the_users_cache(package):
    """A system-wide install whose site-packages cannot be written: the fast GRU compiles into the user's cache."""
    home = package["top"] / "student"
    script = ("import json, warnings; warnings.simplefilter('error', RuntimeWarning); import grutools.core.fast as f; "
              "print(json.dumps({'available': f.available(), 'file': f.extension().__file__}))")
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    env.pop("GRUTOOLS_BUILD_DIR", None)
    env.pop("GRUTOOLS_CACHE_DIR", None)
    command = read_only_command(package["package"], [str(package["venv"] / "bin" / "python"), "-c", script])
    result = run(command, cwd=package["work"], env=env, timeout=300)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["available"]
    assert Path(found["file"]).is_relative_to(home / ".cache" / "grutools" / "fast_gru")
    assert not (package["package"] / "_build").exists()


def test_the_installed_wheel_works_from_any_folder(package):
    script = """
import json, warnings
warnings.simplefilter("error", RuntimeWarning)  # a fallback to torch.nn.GRU warns: fail on it
import grutools, grutools.core.fast as fast
from grutools.core.resources import data_dir
x, y = grutools.Sunspots(length=60).sample(3, seed=0)
checkpoint = grutools.load(data_dir() / "checkpoints" / "adding_gru.pt")
model = grutools.SequenceModel("gru", input_size=1, hidden_size=4, output_size=1, seed=0)
print(json.dumps({"module": grutools.__file__, "available": fast.available(), "extension": fast.extension().__file__,
                  "core": type(model.core).__name__, "sunspots": list(x.shape), "checkpoint": checkpoint.model.cell,
                  "version": grutools.__version__}))
"""
    result = run([str(package["venv"] / "bin" / "python"), "-c", script], cwd=package["work"], timeout=300)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(found["module"]).is_relative_to(package["package"])  # the installed copy, not the clone
    assert found["available"] and found["core"] == "FastGRU"
    assert Path(found["extension"]).is_relative_to(package["package"] / "_build")  # writable here: shared by all users
    assert found["sunspots"] == [3, 60, 1] and found["checkpoint"] == "gru"
    version = run([str(package["venv"] / "bin" / "grutools"), "--version"], cwd=package["work"]).stdout.strip()
    assert version == f"grutools {found['version']}"


def test_grutools_serve_answers_and_a_dashboard_draws_its_plots(package):
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium (make chromium installs it)")
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = subprocess.Popen([str(package["venv"] / "bin" / "grutools"), "serve", f"--port={port}"],
                              cwd=package["work"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # its own process group, stopped as a whole below
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                index = urllib.request.urlopen(base + "/voila/api/contents", timeout=2).read().decode()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "grutools serve did not answer"
                time.sleep(0.5)
        assert "00_welcome.ipynb" in index
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            bundles = []
            page.on("response", lambda r: bundles.append(r.status) if "plotly-widget.js" in r.url else None)
            page.goto(dashboard_url(base, "00_welcome.ipynb"), wait_until="commit")
            wait_for_dashboard(page, timeout_ms=120_000)
            browser.close()
        assert bundles and bundles[0] == 200  # plotly.js came from the installed template, as a cacheable file
    finally:
        family = descendants([server.pid])
        os.killpg(server.pid, signal.SIGTERM)  # as a service manager stops it: the group, by SIGTERM
        server.wait(30)
        deadline = time.monotonic() + 15
        while (alive := [pid for pid in family if is_alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in alive:
            os.kill(pid, signal.SIGKILL)
        assert not alive, f"grutools serve left {len(alive)} process(es) behind after SIGTERM"


def test_the_sdist_installs_imports_and_builds(package):
    python = str(package["venv"] / "bin" / "python")
    run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(package["sdist"])],
        cwd=package["work"], timeout=300)
    target = package["top"] / "sdist-build"
    env = {**os.environ, "GRUTOOLS_BUILD_DIR": str(target)}
    result = run([package["venv"] / "bin" / "grutools", "build"], cwd=package["work"], env=env, timeout=300)
    assert "agrees with torch.nn.GRU" in result.stdout
    assert list(target.glob("*.so"))
    found = run([python, "-c", "import grutools.core.resources as r; print(r.root())"], cwd=package["work"]).stdout.strip()
    assert Path(found) == package["package"] / "_shipped"
