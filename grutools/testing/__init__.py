"""Testing wing, not part of the product: the harness that serves the dashboards with Voilà and drives them in Chromium.

Used by ``tests/``, ``benchmarks/`` and ``scripts/`` only (as ``numpy.testing`` is by
numpy's tests); nothing in the product imports it. :mod:`.serving` starts a Voilà
server, opens a dashboard in a real browser, and talks to a kernel over its websocket.
"""
