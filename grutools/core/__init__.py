"""The recurrent machinery: equations, models, the fast kernel, tracing, training, tasks and files.

Every other wing builds on this one, and this one imports nothing of the others, nor
widgets, Voilà or plotly.

- :mod:`.equations`: the GRU, LSTM and RNN steps, one source of truth for every equation;
- :mod:`.models`: :class:`~.models.SequenceModel`, a recurrent core plus a linear head;
- :mod:`.fast`, :mod:`.build`, ``csrc/``: :class:`~.fast.FastGRU`, the fused CPU GRU kernel, and how it is built;
- :mod:`.trace`, :mod:`.capture`: every gate and state of a model's recurrent layer;
- :mod:`.gradients`: the loss gradient through time;
- :mod:`.training`: the training loop, :class:`~.training.History`;
- :mod:`.tasks`: the adding problem, the copy task, sunspots and the other data sets;
- :mod:`.io`: saving and loading models safely;
- :mod:`.resources`: where the shipped files are, in a clone or an installed wheel.
"""
