"""A microphone button for the page (an anywidget): it records a few seconds and sends them to the kernel as a WAV.

Browsers give a page the microphone only in a secure context: ``localhost`` or HTTPS. Elsewhere (a class served
over plain http from another machine) the button is off and says so. The page sends one thing, ``wav``: bytes, of
at most the size an upload may have; :func:`grutools.apps.guard.protect` refuses anything else, and the app reads
the bytes as it reads an upload (:func:`grutools.speech.read_audio`), so a hostile page gains nothing here.
"""

from __future__ import annotations

import anywidget
import traitlets
from ipywidgets.widgets.trait_types import bytes_serialization

from ..speech.audio import MAX_BYTES

_ESM = r"""
function wav(samples, rate) {
  const view = new DataView(new ArrayBuffer(44 + samples.length * 2));
  const text = (at, s) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
  text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE"); text(12, "fmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true);
  view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, v < 0 ? v * 0x8000 : v * 0x7fff, true);
  }
  return view;
}
function render({ model, el }) {
  const seconds = model.get("max_seconds");
  const button = document.createElement("button");
  button.className = "jupyter-button widget-button grutools-record";
  button.textContent = `\u25CF Record ${seconds} s`;
  const note = document.createElement("div");
  note.className = "grutools-record-note";
  note.setAttribute("role", "status");
  el.append(button, note);
  if (!window.isSecureContext || !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
    button.disabled = true;
    note.textContent = "Recording is off: browsers give the microphone only to pages on localhost or HTTPS, " +
      `and this page is ${location.protocol}//${location.host}. Upload a WAV instead.`;
    return;
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      note.textContent = `No microphone: ${error.message || error.name}.`;
      button.disabled = false;
      return;
    }
    const context = new AudioContext();
    const source = context.createMediaStreamSource(stream);
    const tap = context.createScriptProcessor(4096, 1, 1);
    const chunks = [];
    let count = 0;
    const limit = Math.round(seconds * context.sampleRate);
    note.textContent = `Recording for ${seconds} s: say a digit now.`;
    const finish = () => {
      tap.disconnect(); source.disconnect();
      stream.getTracks().forEach((track) => track.stop());
      const samples = new Float32Array(count);
      let at = 0;
      for (const chunk of chunks) { samples.set(chunk.subarray(0, count - at), at); at += chunk.length; }
      const rate = context.sampleRate;
      context.close();
      model.set("wav", wav(samples, rate));
      model.save_changes();
      note.textContent = `Recorded ${(count / rate).toFixed(1)} s; the views below show it.`;
      button.disabled = false;
    };
    tap.onaudioprocess = (event) => {
      if (count >= limit) return;
      const data = event.inputBuffer.getChannelData(0);
      chunks.push(new Float32Array(data));
      count = Math.min(limit, count + data.length);
      if (count >= limit) finish();
    };
    source.connect(tap); tap.connect(context.destination);
  });
}
export default { render };
"""

_CSS = """
.grutools-record-note { font-size: 13px; max-width: 290px; line-height: 1.3; margin-top: 2px; }
"""


class Recorder(anywidget.AnyWidget):
    """A Record button; after recording, ``wav`` holds the recording as 16-bit mono WAV bytes at the browser's rate."""

    _esm = _ESM
    _css = _CSS
    wav = traitlets.Bytes(b"").tag(sync=True, **bytes_serialization)
    max_seconds = traitlets.Float(3.0).tag(sync=True)

    # what guard.protect lets the page set, and how it checks it
    _page_keys = ("wav",)

    def _page_problem(self, key: str, value) -> str | None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            return "a recording must arrive as bytes"
        size = len(value) if not isinstance(value, memoryview) else value.nbytes
        if size > MAX_BYTES:
            return f"a recording of {size / 2**20:.1f} MB is over the {MAX_BYTES / 2**20:.0f} MB limit"
        return None
