// grutools: say so when a dashboard loses its kernel for good.
//
// When a page's kernel dies (killed, out of memory, culled while a laptop slept) or the server restarts,
// Voila's page shows a broken-link icon beside every widget and no sentence. This script watches the
// kernel's websocket. The kernel reporting itself dead or restarting (its widgets are then gone), or a
// socket that stays closed for GRACE_MS, shows one banner with a Reload button; a reload brings a fresh
// kernel. A short network drop that JupyterLab's own reconnection repairs within GRACE_MS shows nothing.
// Loaded before Voila's scripts, so it sees every kernel websocket they open.
(function () {
  "use strict";
  const GRACE_MS = 4000;
  const NativeWebSocket = window.WebSocket;
  const sockets = [];
  let lostTimer = null;
  let shown = false;
  let leaving = false;
  window.addEventListener("beforeunload", function () { leaving = true; });

  function showBanner() {
    if (shown || leaving) return;
    shown = true;
    const banner = document.createElement("div");
    banner.id = "grutools-connection-lost";
    banner.setAttribute("role", "alert");
    banner.style.cssText = "position:fixed;top:0;left:0;right:0;z-index:10000;display:flex;flex-wrap:wrap;" +
      "align-items:center;gap:12px;padding:12px 18px;background:#8e0000;color:#fff;font:18px/1.4 sans-serif;" +
      "box-shadow:0 2px 6px rgba(0,0,0,.4)";
    const text = document.createElement("span");
    text.textContent = "This dashboard lost its connection to the server. Reload the page to start again.";
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Reload";
    button.style.cssText = "font:bold 18px sans-serif;padding:6px 18px;border:2px solid #fff;border-radius:4px;" +
      "background:#fff;color:#8e0000;cursor:pointer";
    button.addEventListener("click", function () { window.location.reload(); });
    banner.append(text, button);
    document.body.appendChild(banner);
    button.focus();
  }

  function lost() {
    if (lostTimer === null && !shown) lostTimer = setTimeout(showBanner, GRACE_MS);
  }

  function found() {
    if (lostTimer !== null) { clearTimeout(lostTimer); lostTimer = null; }
  }

  const DEAD = /"execution_state"\s*:\s*"(dead|restarting|autorestarting)"/;
  const decoder = new TextDecoder();

  function onMessage(event) {
    // status messages are small; plots are not, and need no reading here
    const data = event.data;
    let text = null;
    if (typeof data === "string") text = data.length < 4096 ? data : null;
    else if (data instanceof ArrayBuffer && data.byteLength < 4096) text = decoder.decode(data);
    if (text !== null && DEAD.test(text)) showBanner();
  }

  function WatchedWebSocket(url, protocols) {
    const socket = protocols === undefined ? new NativeWebSocket(url) : new NativeWebSocket(url, protocols);
    if (String(url).indexOf("/api/kernels/") !== -1) {
      sockets.push(socket);
      socket.addEventListener("open", found);
      socket.addEventListener("close", lost);
      socket.addEventListener("message", onMessage);
    }
    return socket;
  }
  WatchedWebSocket.prototype = NativeWebSocket.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) WatchedWebSocket[name] = NativeWebSocket[name];
  window.WebSocket = WatchedWebSocket;
  window.grutoolsKernelSockets = sockets;  // for the browser tests
})();
