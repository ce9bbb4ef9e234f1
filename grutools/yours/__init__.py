"""Your own model on your own sequences: the analysis behind ``grutools.explore`` and dashboard 06.

- :mod:`.explore`: :class:`~.explore.Exploration`, every gate view of any GRU, LSTM or RNN;
- :mod:`.sequences`: your sequences (tensors, arrays, lists or a CSV file), checked;
- :mod:`.uploads`: a model file from a page or a path, read without unpickling code;
- :mod:`.takeaway`: a dashboard's model and the code that reproduces it, to take home.

Like the lessons, this wing uses :mod:`grutools.core` only; its widgets are in
:mod:`grutools.apps.explore` and :mod:`grutools.apps.yours`.
"""
