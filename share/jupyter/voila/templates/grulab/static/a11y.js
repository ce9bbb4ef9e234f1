// grutools: names for what a screen reader reads out, and a text alternative for every plot.
//
// ipywidgets' sliders draw their handle as a bare role="slider" element: a screen reader says "slider",
// not which one. Plotly's plots are SVG with no text alternative. This script, loaded with the page, gives
// each slider handle the name of its control (the label beside it), each plot a role of "figure" and a label
// that says what it shows (its title and its axes), and each scrollable box a tab stop, so that a keyboard
// can scroll it; it keeps them right as the widgets and plots are drawn and redrawn.
(function () {
  "use strict";

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function nameSliders(root) {
    for (const handle of root.querySelectorAll('[role="slider"]:not([aria-label])')) {
      const control = handle.closest(".widget-slider, .jupyter-widgets");
      const label = control && control.querySelector(".widget-label, label");
      handle.setAttribute("aria-label", text(label) || "slider");
    }
  }

  function describePlots(root) {
    for (const plot of root.querySelectorAll(".js-plotly-plot")) {
      const title = Array.from(plot.querySelectorAll(".gtitle, .g-gtitle text, .annotation-text"))
        .map(text).filter(Boolean).slice(0, 3).join("; ");
      const axes = Array.from(plot.querySelectorAll(".g-xtitle, .g-ytitle")).map(text).filter(Boolean);
      const label = "Plot" + (title ? ": " + title : "") + (axes.length ? ". Axes: " + axes.join(", ") + "." : "");
      if (plot.getAttribute("aria-label") !== label) {
        plot.setAttribute("role", "figure");
        plot.setAttribute("aria-label", label);
      }
    }
  }

  function focusScrollables(root) {
    for (const box of root.querySelectorAll(".jp-OutputArea-output, .widget-box, .widget-html-content")) {
      const style = getComputedStyle(box);
      const scrolls = /(auto|scroll)/.test(style.overflowX + style.overflowY) &&
        (box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1);
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", box.getAttribute("role") || "region");
        box.setAttribute("aria-label", box.getAttribute("aria-label") || "scrollable part of the dashboard");
      }
    }
  }

  let queued = false;
  function update() {
    queued = false;
    nameSliders(document);
    describePlots(document);
    focusScrollables(document);
  }
  function schedule() {
    if (!queued) { queued = true; setTimeout(update, 200); }
  }
  new MutationObserver(schedule).observe(document.documentElement, { childList: true, subtree: true });
  window.addEventListener("resize", schedule);
  document.addEventListener("DOMContentLoaded", schedule);
})();
