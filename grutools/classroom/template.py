"""Our Voilà template made ready to serve: plotly's widget bundle beside it, from the plotly installed here.

The template ships with grutools (``grutools.core.resources.template_dir``). Its static
folder also serves ``plotly-widget.js``: plotly's 5 MB widget bundle, fetched once
per browser and cached, instead of sent over every plot's websocket. The bundle is
made from the installed plotly (and patched, see :func:`install_bundle`), so it is
written at install or serve time, never shipped. Where the template's folder cannot
be written (a system-wide or read-only install), :func:`prepare` makes a copy of the
template in the per-user cache and serves that one.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from ..core.resources import BUNDLE, SERVED, TEMPLATE, cache_dir, served_template, template_dir, writable  # noqa: F401

VERSION_FILE = "plotly-widget.version"  # the plotly version the bundle was made from
QUIET_GUARD = 'if(this.model.get("_grutools_quiet"))return;'
# a figure without a fixed width takes its box's width, and follows it when the window (or the layout) changes
# (a plot taken out of the page, as dashboard 06 replaces its views, stops following: plotly refuses to resize it)
FOLLOW_BOX = ('if(!this._grutoolsBox&&typeof ResizeObserver=="function"){this._grutoolsBox=new ResizeObserver(()=>{'
              'clearTimeout(this._grutoolsWait);this._grutoolsWait=setTimeout(()=>{if(!this.el.isConnected){'
              'this._grutoolsBox.disconnect();return}if(this.el.offsetParent!==null)this.autosizeFigure()},100)});'
              'this._grutoolsBox.observe(this.el)}')


def install_bundle(target: Path | None = None) -> bool:
    """Write plotly's widget bundle to ``target`` (default: the template's static folder), made quiet for our widgets.

    After every update plotly's widget reports the figure's computed defaults back to
    the kernel (``_sendTraceDeltas``, ``_sendLayoutDelta``): a deep copy and a diff of
    the whole figure. Measured on dashboard 02, that was half of the page's main-thread
    time per slider move (long tasks of 138 ms per move, 72 ms without the reports), and
    nothing here reads those defaults. The copy returns early from both for a widget
    whose model has ``_grutools_quiet`` set, as ours do. It also makes each plot follow its box's
    width (plotly's own resize handling is wired to Lumino messages that anywidget never sends).
    Returns whether all three were patched;
    with another plotly whose bundle differs, the copy stays as plotly ships it.
    """
    import plotly

    target = Path(target) if target else template_dir() / "static" / BUNDLE
    text = (Path(plotly.__file__).parent / "package_data" / "widgetbundle.js").read_text(encoding="utf-8")
    patched = 0
    for method in ("_sendTraceDeltas", "_sendLayoutDelta"):
        text, count = re.subn(rf"({method}\([A-Za-z_$][\w$]*\)\{{)", lambda m: m.group(1) + QUIET_GUARD, text, count=1)
        patched += count
    # under anywidget the view never gets the Lumino resize messages it autosizes on: follow the box instead
    text, count = re.subn(r"(perform_render\(\)\{)", lambda m: m.group(1) + FOLLOW_BOX, text, count=1)
    patched += count
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".{os.getpid()}.part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)  # atomic: a page never loads half a bundle
    (target.parent / VERSION_FILE).write_text(_bundle_version())
    if patched < 3:
        print(f"grutools: plotly's widget bundle has changed; {target} is unpatched (slider redraws are slower, plots "
              "do not follow the window).")
    return patched == 3


def bundle_ready(template: Path) -> bool:
    """Whether ``template`` has a bundle made from the installed plotly, with our current patches."""
    version = template / "static" / VERSION_FILE
    return (template / "static" / BUNDLE).is_file() and version.is_file() and version.read_text() == _bundle_version()


def _bundle_version() -> str:
    """The installed plotly's version and our patches': a bundle made from either other is made again."""
    import hashlib

    import plotly

    return f"{plotly.__version__} {hashlib.sha256((QUIET_GUARD + FOLLOW_BOX).encode()).hexdigest()[:8]}"


def prepare() -> Path:
    """The template folder to serve, with its bundle ready: the shipped one if it can be written, else a cached copy.

    Returns the template's folder (``.../voila/templates/grulab``); its third parent
    is the Jupyter data folder to put first on ``JUPYTER_PATH``.
    """
    shipped = template_dir()
    if bundle_ready(shipped):
        return shipped
    if writable(shipped / "static"):
        install_bundle(shipped / "static" / BUNDLE)
        return shipped
    copy = cache_dir() / "jupyter" / "voila" / "templates" / TEMPLATE
    shutil.copytree(shipped, copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns(BUNDLE, VERSION_FILE))
    if not bundle_ready(copy):
        install_bundle(copy / "static" / BUNDLE)
    return copy
