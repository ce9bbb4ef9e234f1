"""Where grutools' shipped files are: one lookup for a clone and for an installed package.

The repository keeps its shipped files at its root (``data/``, ``notebooks/``,
``voila.json`` and the Voilà template under ``share/jupyter/voila/templates/grulab``).
A wheel or sdist built from it carries the same files, copied at build time (see
``setup.py``): data, notebooks and settings into ``grutools/_shipped/`` with the same
layout, the template where Jupyter looks for templates
(``PREFIX/share/jupyter/voila/templates/grulab``). :func:`root` and :func:`template_dir`
find whichever is there, so no copy is kept by hand and the clone stays the source of truth.

>>> (data_dir() / "sunspots_monthly.csv").exists()
True
>>> sorted(p.name for p in notebooks_dir().glob("0*.ipynb"))[0]
'00_welcome.ipynb'
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # the grutools package (this file is in grutools/core/)
SHIPPED = PACKAGE / "_shipped"  # in a wheel or an sdist install
TEMPLATE = "grulab"
BUNDLE = "plotly-widget.js"  # plotly's widget bundle, beside the template (grutools.classroom.template writes it)
SERVED = "GRUTOOLS_TEMPLATE_DIR"  # set by `grutools serve` for its kernels: the template folder it serves


@functools.lru_cache(maxsize=1)
def root() -> Path:
    """The folder that holds ``data/``, ``notebooks/``, ``voila.json`` and ``share/``: the package's own copy, or the clone."""
    for candidate in (SHIPPED, PACKAGE.parent):
        if (candidate / "voila.json").is_file() and (candidate / "notebooks").is_dir():
            return candidate
    return SHIPPED  # a broken install: whoever needs a file says which one is missing


def shipped_file(*parts: str) -> Path:
    """A shipped file, or a ``FileNotFoundError`` that says how to get it back."""
    path = root().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{'/'.join(parts)} is missing from grutools' shipped files ({path}). Reinstall "
                                "grutools from its wheel or sdist (pip install --force-reinstall grutools).")
    return path


def data_dir() -> Path:
    """The shipped data: ``sunspots_monthly.csv``, ``checkpoints/``, ``results/``."""
    return root() / "data"


def notebooks_dir() -> Path:
    """The dashboards' notebooks."""
    return root() / "notebooks"


def notebook_names() -> list[str]:
    """The dashboards, in order: the shipped notebooks' file names."""
    return sorted(p.name for p in notebooks_dir().glob("*.ipynb"))


def voila_settings() -> Path:
    """The shipped ``voila.json`` (Voilà reads it from the folder it starts in)."""
    return root() / "voila.json"


def template_dir() -> Path:
    """Our Voilà template's folder: the clone's, else the first on Jupyter's data path (where a wheel puts it)."""
    clone = PACKAGE.parent / "share" / "jupyter" / "voila" / "templates" / TEMPLATE
    if (clone / "conf.json").is_file():
        return clone
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("voila", "templates", TEMPLATE):
        if (Path(folder) / "conf.json").is_file():
            return Path(folder)
    raise FileNotFoundError(f"the Voila template {TEMPLATE!r} is missing (looked in {clone} and on Jupyter's data "
                            "path). Reinstall grutools from its wheel or sdist.")


def jupyter_data_dir() -> Path:
    """The Jupyter data folder that holds our template: put it first on ``JUPYTER_PATH`` so Voilà takes ours."""
    return template_dir().parents[2]


def cache_dir() -> Path:
    """grutools' per-user cache folder: ``$GRUTOOLS_CACHE_DIR``, else ``$XDG_CACHE_HOME/grutools`` (``~/.cache/grutools``)."""
    configured = os.environ.get("GRUTOOLS_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "grutools"


def writable(folder: Path) -> bool:
    """Whether files can be created in ``folder`` (tried for real: ``os.access`` says yes to root on a read-only mount)."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".grutools-probe-"):
            return True
    except OSError:
        return False


def served_template() -> Path | None:
    """In a kernel: the template folder whose bundle the page can load, or ``None`` (then plotly.js goes by websocket)."""
    configured = os.environ.get(SERVED)
    try:
        folder = Path(configured) if configured else template_dir()
    except FileNotFoundError:
        return None
    return folder if (folder / "static" / BUNDLE).is_file() else None
