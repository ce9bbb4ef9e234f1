"""The science behind each dashboard: one module per lesson, under the same stem as its app and its figures.

Each module computes what its dashboard shows (``grutools.apps.<stem>`` wires it to
controls, ``grutools.plots.<stem>`` draws it) and is unit-tested on its own. Lessons use
:mod:`grutools.core` only; none imports widgets, Voilà or plotly.

- :mod:`.cell` (dashboard 01): one GRU step, gate by gate;
- :mod:`.gates` (02): gate saturation, event steps and time scales of a trained GRU;
- :mod:`.vanishing`, :mod:`.chrono` (03): gradients through time, the race, chrono initialisation;
- :mod:`.compare`, :mod:`.speed`, :mod:`.counting` (04): the claims about GRU against LSTM, measured;
- :mod:`.memory` (05): how long each unit remembers.
"""
