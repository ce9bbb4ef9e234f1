"""The kernel trusts nothing from the page: every widget update is checked before it reaches app code.

ipywidgets applies whatever a page sends over its kernel websocket: any synced trait
(``value``, ``min``, ``max``, ``options``, ``disabled``...) of any widget. A slider's
bounds live in the browser and protect nothing: one crafted ``update`` message set a
"sequence length" slider (10-500) to 20000 and the kernel computed with it.

:func:`protect` puts one check in front of every widget of an app (walked from its
views, with their layouts and styles), in one place for every app:

- a page may change only what a person can change with the control: a slider's,
  text field's or check box's ``value``, a choice's ``index``, an accordion's open
  section. ``min``, ``max``, ``step``, ``options``, ``disabled``, ``children``,
  layouts and styles, and everything of display-only widgets, are refused;
- a value must have the control's type and lie within the bounds and options the
  *app* set (the Python side, which only the app changes); a disabled control takes
  nothing, and a disabled button cannot be clicked;
- a refused message changes nothing and runs nothing: the control snaps back (its
  true state is sent to the page again) and the app's status line says why.

A page can also ask the kernel to *create* widgets (a ``comm_open`` to the
``jupyter.widget`` target); no dashboard needs that, so the target is closed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from numbers import Integral, Real

import ipywidgets as widgets

log = logging.getLogger("grutools.guard")
MAX_TEXT = 10_000  # characters a text field may take from the page


def protect(views: Iterable[widgets.Widget] | widgets.Widget, status=None) -> list[widgets.Widget]:
    """Guard every widget reachable from ``views``; refusals are reported on ``status`` (a :class:`StatusLine`).

    Returns the widgets guarded. Guarding a widget twice keeps the first status line.
    """
    if isinstance(views, widgets.Widget):
        views = [views]
    views = list(views)
    _close_widget_creation()
    guarded = []
    for widget in _walk(views):
        if getattr(widget, "_grutools_guarded", False):
            continue
        _guard(widget, status)
        guarded.append(widget)
    return guarded


def _walk(roots: Iterable[widgets.Widget]):
    seen: set[int] = set()
    stack = [w for w in roots if w is not None]
    while stack:
        widget = stack.pop()
        if id(widget) in seen or not isinstance(widget, widgets.Widget):
            continue
        seen.add(id(widget))
        yield widget
        stack.extend(getattr(widget, "children", ()) or ())
        for name in ("layout", "style"):
            part = getattr(widget, name, None)
            if isinstance(part, widgets.Widget):
                stack.append(part)


def _guard(widget: widgets.Widget, status) -> None:
    original_set_state = widget.set_state

    def set_state(state: dict) -> None:
        problem = refusal(widget, state)
        if problem is None:
            return original_set_state(state)
        keys = [key for key in state if key in widget.keys]
        if keys:
            widget.send_state(keys)  # snap back: the page shows the true state again
        _report(widget, status, problem)
        return None

    widget.set_state = set_state
    if "children" in widget.keys:  # what the app puts into a box later is guarded too
        widget.observe(lambda change: protect(change["new"], status), names="children")
    if isinstance(widget, widgets.Button):
        original_click = widget.click

        def click() -> None:
            if widget.disabled:
                _report(widget, status, "it is disabled right now")
                return None
            return original_click()

        widget.click = click
    widget._grutools_guarded = True


def _report(widget: widgets.Widget, status, problem: str) -> None:
    name = getattr(widget, "description", "")
    part = f"'{name}'" if name else f"a part of the page ({type(widget).__name__})"
    message = f"A change to {part} from this page was refused: {problem}. Nothing was changed."
    log.warning(message)
    if status is not None:
        status.error(message)


def allowed_keys(widget: widgets.Widget) -> set[str]:
    """The traits a page may set on ``widget``: only what a person changes by using the control.

    A widget of the suite's own (e.g. the microphone button) names them in ``_page_keys`` and checks each value in
    ``_page_problem(key, value)``."""
    if getattr(widget, "_page_keys", None):
        return set(widget._page_keys)
    if _is_figure(widget):
        # plotly.js's reports (zoom, hover) and its acknowledgements of the kernel's edits
        return {key for key in widget.keys if key.startswith("_js2py_") or key.startswith("_last_")}
    if isinstance(widget, (widgets.Button, widgets.HTML, widgets.HTMLMath, widgets.Label, widgets.Layout,
                           widgets.IntProgress, widgets.FloatProgress, widgets.Output)):
        return set()
    if isinstance(widget, (widgets.Accordion, widgets.Tab, widgets.Stack)):
        return {"selected_index"}
    if isinstance(widget, widgets.Box) or not isinstance(widget, widgets.DOMWidget):
        return set()  # containers (children), styles and other models
    if isinstance(widget, (widgets.widget_selection._Selection, widgets.widget_selection._MultipleSelection)):
        return {"index"}  # a choice arrives as its position among the app's options
    if isinstance(widget, widgets.ValueWidget) and "value" in widget.keys:
        return {"value"}
    return set()


def refusal(widget: widgets.Widget, state: dict) -> str | None:
    """Why a page's update ``state`` must be refused, or ``None`` if every part of it is a value the control allows."""
    if not isinstance(state, dict) or not state:
        return "the message holds no state"
    allowed = allowed_keys(widget)
    for key, value in state.items():
        if key == "_view_count" and (value is None or _is_int(value) and value >= 0):
            continue  # the page reports how many views it shows (plotly's widget does): harmless
        if key not in allowed:
            return f"'{key}' cannot be changed from the page"
        if _is_figure(widget):
            continue
        if getattr(widget, "disabled", False):
            if key in ("value", "index") and _same(getattr(widget, key, None), value):
                continue  # changes nothing: a move the page sent late (ipywidgets holds moves back while the kernel works)
            return "it is disabled right now"
        problem = _value_problem(widget, key, value)
        if problem:
            return problem
    return None


def _value_problem(widget: widgets.Widget, key: str, value) -> str | None:
    if getattr(widget, "_page_keys", None):
        return widget._page_problem(key, value)
    if key == "selected_index":
        if value is None or (_is_int(value) and 0 <= value < len(widget.children)):
            return None
        return f"there is no section {value!r}"
    if key == "index":
        count = len(widget.options)
        indexes = value if isinstance(widget, widgets.widget_selection._MultipleSelection) else [value]
        if not isinstance(indexes, (list, tuple)) or not all(_is_int(i) and 0 <= i < count for i in indexes):
            return f"{value!r} is not one of its {count} choices"
        return None
    # key == "value"
    if isinstance(widget, (widgets.Checkbox, widgets.ToggleButton, widgets.Valid)):
        return None if isinstance(value, bool) else f"{value!r} is not true or false"
    if isinstance(widget, (widgets.Text, widgets.Textarea)):
        if not isinstance(value, str):
            return f"{value!r} is not text"
        return None if len(value) <= MAX_TEXT else f"{len(value)} characters is more than {MAX_TEXT}"
    if isinstance(widget, (widgets.IntRangeSlider, widgets.FloatRangeSlider)):
        if not (isinstance(value, (list, tuple)) and len(value) == 2):
            return f"{value!r} is not a pair of numbers"
        for part in value:
            problem = _number_problem(widget, part)
            if problem:
                return problem
        return None if value[0] <= value[1] else f"{value!r} runs backwards"
    if _is_number_widget(widget):
        return _number_problem(widget, value)
    if isinstance(widget, widgets.FileUpload):
        return _upload_problem(widget, value)
    return f"this control takes no value from the page ({type(widget).__name__})"


UPLOAD_KEYS = {"name", "type", "size", "last_modified", "content"}


def _upload_problem(widget: widgets.FileUpload, value) -> str | None:
    """An upload is a list of files, each a dict of a name, a type, sizes and its bytes; nothing else."""
    if not isinstance(value, (list, tuple)):
        return f"{type(value).__name__} is not a list of files"
    if len(value) > (50 if widget.multiple else 1):
        return f"{len(value)} files, where this button takes {'a few' if widget.multiple else 'one'}"
    for item in value:
        if not isinstance(item, dict) or not set(item) <= UPLOAD_KEYS or "content" not in item:
            return "a file arrived without its content, or with unknown parts"
        if not isinstance(item.get("name", ""), str) or len(item.get("name", "")) > 255:
            return "a file name that is not text (or too long)"
        if not isinstance(item["content"], (bytes, bytearray, memoryview)):
            return "a file's content is not bytes"
    return None


def _number_problem(widget: widgets.Widget, value) -> str | None:
    from ipywidgets.widgets.widget_int import _Int, _IntRange

    integer = isinstance(widget, (_Int, _IntRange))
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        return f"{value!r} is not a number"
    if integer and not float(value).is_integer():
        return f"{value!r} is not a whole number"
    low, high = getattr(widget, "min", None), getattr(widget, "max", None)
    if isinstance(widget, widgets.FloatLogSlider):
        low, high = widget.base ** widget.min, widget.base ** widget.max
    if low is not None and value < low or high is not None and value > high:
        return f"{value!r} is outside its range {low}..{high}"
    return None


def _same(current, value) -> bool:
    """Whether a page's ``value`` is the control's ``current`` one (of the same kind: ``True`` is not ``1``)."""
    return type(current) is type(value) and current == value or (
        isinstance(current, float) and _is_int(value) and current == value)


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_number_widget(widget) -> bool:
    from ipywidgets.widgets.widget_float import _Float
    from ipywidgets.widgets.widget_int import _Int

    return isinstance(widget, (_Int, _Float))


def _is_figure(widget) -> bool:
    return hasattr(widget, "_js2py_restyle")


def _close_widget_creation() -> None:
    """Refuse widgets created by the page (``comm_open`` to ``jupyter.widget``); ours are all made in the kernel."""
    try:
        from comm import get_comm_manager

        manager = get_comm_manager()
        if manager is not None and "jupyter.widget" in getattr(manager, "targets", {}):
            manager.unregister_target("jupyter.widget", manager.targets["jupyter.widget"])
    except Exception:  # no kernel (plain Python, tests): nothing to close
        log.debug("no comm manager to close the widget target of", exc_info=True)
