"""The *Commit my prediction* button (an anywidget): the click carries the prediction the page showed.

ipywidgets sends a control's moves one at a time: while the kernel works on one, the
next are held in the page and sent once it is idle. A button's click is sent at once.
A student who pressed the arrow keys five times and then Enter on an ordinary button
committed, under load, the value after the first press: the click overtook the four
moves held back (seen in the keyboard test on a busy machine). This button reads the
prediction's control *in the page* when it is clicked, and sends that value with the
click in one message, so the kernel commits what the student saw.

The page may set two things here, both checked by :func:`grutools.apps.guard.protect`:
``presses`` (a count that only grows by one) and ``value`` (what the prediction's
control allows: a number within the slider's range, or a choice's position).
"""

from __future__ import annotations

import anywidget
import ipywidgets as widgets
import traitlets

_ESM = r"""
function render({ model, el }) {
  const button = document.createElement("button");
  // ipywidgets' own classes: the same look as the other buttons, enabled and disabled
  button.className = "jupyter-widgets jupyter-button widget-button mod-primary grutools-commit";
  button.style.width = "100%";  // the widget's layout (its width, margin) is set on el, not here
  button.style.margin = "0";
  const show = () => {
    button.textContent = model.get("description");
    button.disabled = model.get("disabled");
  };
  show();
  model.on("change:description", show);
  model.on("change:disabled", show);
  button.addEventListener("click", async () => {
    const source = await model.widget_manager.get_model(model.get("source").slice("IPY_MODEL_".length));
    model.set({ value: source.get(model.get("key")), presses: model.get("presses") + 1 });
    model.save_changes();
  });
  el.append(button);
}
export default { render };
"""


class CommitButton(anywidget.AnyWidget):
    """A button that commits the value of ``source`` (its ``key``: ``"value"`` of a slider, ``"index"`` of a choice)
    as the page showed it; ``on_commit(callback)`` calls ``callback(value)`` for each press."""

    _esm = _ESM
    description = traitlets.Unicode("Commit my prediction").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    source = traitlets.Instance(widgets.Widget).tag(sync=True, **widgets.widget_serialization)
    key = traitlets.Unicode("value").tag(sync=True)
    value = traitlets.Any(None).tag(sync=True)
    presses = traitlets.Int(0).tag(sync=True)

    _page_keys = ("value", "presses")

    def __init__(self, source: widgets.Widget, **kwargs) -> None:
        key = "index" if isinstance(source, widgets.widget_selection._Selection) else "value"
        super().__init__(source=source, key=key, **kwargs)
        self._callbacks = []
        self.observe(self._pressed, names="presses")

    def on_commit(self, callback) -> None:
        self._callbacks.append(callback)

    def _pressed(self, change) -> None:
        for callback in self._callbacks:
            callback(self.value)

    def _page_problem(self, key: str, value) -> str | None:
        from .guard import refusal

        if key == "presses":
            ok = isinstance(value, int) and not isinstance(value, bool) and value == self.presses + 1
            return None if ok else f"{value!r} is not the next press"
        return refusal(self.source, {self.key: value})  # what the control itself would take from the page
