"""Build-time copies of grutools' shipped files into the wheel (the metadata lives in pyproject.toml).

The repository keeps data, notebooks and Voila settings at its root, as the project's
layout asks; ``grutools.core.resources`` finds them there in a clone. A wheel carries
them inside the package, under ``grutools/_shipped/`` with the same layout, so the
same lookup finds them after ``pip install``. The Voila template goes where Jupyter
looks for templates, ``PREFIX/share/jupyter/voila/templates/grulab``, so Voila finds
it without a link. Everything is copied from the root at build time: no second copy
is kept by hand. ``MANIFEST.in`` puts the same files into the sdist.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ["data", "notebooks", "voila.json"]  # into grutools/_shipped/
TEMPLATE = Path("share/jupyter/voila/templates/grulab")
# made at install time from the installed plotly (grutools.apps.common.install_bundle), never shipped
GENERATED = {"plotly-widget.js", "plotly-widget.version"}


def shipped_files(name: str) -> list[Path]:
    """The files under ``name`` (a file or a folder of the root), relative to the root."""
    path = ROOT / name
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return [p.relative_to(ROOT) for p in files
            if p.name not in GENERATED and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts]


class BuildWithShippedFiles(build_py):
    """``build_py`` that also copies data, notebooks and voila.json into ``grutools/_shipped``."""

    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads them from the clone itself
            return
        for name in SHIPPED:
            for relative in shipped_files(name):
                target = Path(self.build_lib) / "grutools" / "_shipped" / relative
                self.mkpath(str(target.parent))
                self.copy_file(str(ROOT / relative), str(target))


def template_data_files() -> list[tuple[str, list[str]]]:
    """The Voila template as ``data_files``: one entry per folder, installed under the environment's prefix."""
    folders: dict[str, list[str]] = {}
    for relative in shipped_files(str(TEMPLATE)):
        folders.setdefault(str(relative.parent), []).append(str(relative))
    return sorted(folders.items())


setup(cmdclass={"build_py": BuildWithShippedFiles}, data_files=template_data_files())
