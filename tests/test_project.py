"""The project's own promises: one environment described twice, clean notebooks, CI = the README's command."""

import json
import re
from pathlib import Path

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


CONDA_NAMES = {"python-build": "build", "pysoundfile": "soundfile"}  # conda-forge's names for PyPI's build, soundfile


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ours = {requirement_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip |= {requirement_name(r) for r in entry["pip"] if not r.startswith(("-", "."))}
        else:
            conda.add(CONDA_NAMES.get(requirement_name(entry), requirement_name(entry)))
    # conda also needs python, pip and a C++ compiler (for the fast GRU; pip users have the system's)
    assert (conda | pip) - {"python", "pip", "cxx-compiler"} == ours
    assert "torch==2.13.0" in [r for e in environment["dependencies"] if isinstance(e, dict) for r in e["pip"]]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, (
                f"{path.name} has outputs: run `make clean-notebooks` before committing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_thin_and_tell_a_story(path):
    cells = json.loads(path.read_text())["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    assert "things to try" in "".join(cells[-1]["source"]).lower()
    for cell in cells:
        if cell["cell_type"] == "code":
            assert len("".join(cell["source"]).splitlines()) <= 15, "long cells belong in the grutools package"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make dashboards" in readme
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), re.M)
    makefile = (ROOT / "Makefile").read_text()
    assert "torch==2.13.0" in makefile and re.search(r"^test:", makefile, re.M)


def test_voila_config_hides_sources_and_tracebacks_and_serves_icons_locally():
    config = json.loads((ROOT / "voila.json").read_text())["VoilaConfiguration"]
    assert config["strip_sources"] is True and config["show_tracebacks"] is False
    template = ROOT / "share" / "jupyter" / "voila" / "templates" / config["template"]
    assert "cdn" not in (template / "index.html.j2").read_text().lower()
    assert (template / "static" / "fontawesome" / "css" / "all.min.css").exists()


def test_data_has_a_readme_with_sources_and_licences():
    text = (ROOT / "data" / "README.md").read_text().lower()
    for file in (ROOT / "data").rglob("*"):
        if file.is_file() and file.name != "README.md":
            folder = file.parent.relative_to(ROOT / "data").as_posix() + "/"  # a folder of many files, described once
            assert file.name.lower() in text or f"`{folder}`" in text, f"data/README.md does not describe {file.name}"
    assert "licen" in text and "public domain" in text


def test_binder_runs_the_same_set_up_as_make_install():
    post_build = ROOT / "postBuild"
    assert post_build.stat().st_mode & 0o111, "postBuild must be executable for repo2docker"
    assert "scripts/install_voila_template.sh" in post_build.read_text()
    assert "scripts/install_voila_template.sh" in (ROOT / "Makefile").read_text()
    assert not (ROOT / "binder").exists()  # repo2docker would then ignore environment.yml and postBuild at the root
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"mybinder\.org/v2/gh/[^)\s]+\?urlpath=voila/render/notebooks/00_welcome\.ipynb", readme)


def test_every_template_page_works_offline():
    template = ROOT / "share" / "jupyter" / "voila" / "templates" / "grulab"
    for page in ("page.html", "503.html", "index.html.j2"):
        text = (template / page).read_text()
        assert not re.search(r"""(href|src)=["']https?://""", text), f"{page} loads something from the internet"


def test_readme_runs_the_classroom_scripts_and_reports_their_figures():
    readme = (ROOT / "README.md").read_text()
    for script in ("benchmarks/dashboard_start.py", "benchmarks/dashboard_respond.py", "benchmarks/classroom_load.py",
                   "python -m grutools export"):
        assert script in readme
    assert "## For teachers" in readme
