"""A user's own sequences, from a tensor, a NumPy array, a pandas DataFrame or a CSV file, checked.

:class:`UserSequences` holds one or more sequences ``(time, features)`` with their
feature names, and plays the part of a task for the figures (its input row and hover
labels). Everything a file or a caller can send gets a sentence naming the problem:
text where numbers belong, NaN or infinity, an empty table, a width the model does
not take.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

MAX_SEQUENCES = 1000
MAX_LOCAL_CSV_BYTES = 200 * 2**20  # a file on the caller's own disk (uploads have their own, smaller limit)


class SequenceDataError(ValueError):
    """The sequences cannot be used; the message says why, in terms of the user's own data."""


class UserSequences:
    """One or more sequences ``(time, features)`` with names: the input row of the explore views.

    Attributes:
        sequences: list of float32 arrays ``(time_i, features)``.
        feature_names: one name per feature.
        ids: one label per sequence.
    """

    name = "user"
    readout = "all"

    def __init__(self, sequences: Sequence[np.ndarray], feature_names: Sequence[str] | None = None,
                 ids: Sequence[Any] | None = None, title: str = "your sequences") -> None:
        if not len(sequences):
            raise SequenceDataError("there are no sequences: the data is empty.")
        if len(sequences) > MAX_SEQUENCES:
            raise SequenceDataError(f"{len(sequences)} sequences is more than the {MAX_SEQUENCES} the views can show; "
                                    "pass a sample of them.")
        arrays = []
        for i, sequence in enumerate(sequences):
            array = np.asarray(sequence, dtype=np.float64)
            if array.ndim == 1:
                array = array[:, None]
            if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
                raise SequenceDataError(f"sequence {i} must be (time, features) with at least one step and one "
                                        f"feature; got shape {array.shape}.")
            bad = np.argwhere(~np.isfinite(array))
            if len(bad):
                step, feature = bad[0]
                raise SequenceDataError(f"sequence {i} has {'NaN' if np.isnan(array[step, feature]) else 'an infinite value'}"
                                        f" at step {step + 1}, feature {feature + 1}; clean the data first.")
            arrays.append(array.astype(np.float32))
        widths = {a.shape[1] for a in arrays}
        if len(widths) > 1:
            raise SequenceDataError(f"the sequences have different numbers of features: {sorted(widths)}.")
        self.sequences = arrays
        self.input_size = arrays[0].shape[1]
        self.feature_names = list(feature_names) if feature_names is not None else [
            f"feature {j + 1}" for j in range(self.input_size)]
        if len(self.feature_names) != self.input_size:
            raise SequenceDataError(f"{len(self.feature_names)} feature names for {self.input_size} features.")
        self.ids = [str(i) for i in (ids if ids is not None else range(len(arrays)))]
        self.vocabulary: list[str] | None = None
        self.tokens = False  # each sequence's one feature is a token id, the input of the model's embedding
        shown = ", ".join(self.feature_names[:4]) + (", ..." if len(self.feature_names) > 4 else "")
        self.title = title if title != "your sequences" else f"{shown} (each scaled to 0-1; hover for values)"

    def __len__(self) -> int:
        return len(self.sequences)

    def check_width(self, input_size: int) -> None:
        """A clear error when the model takes another number of features."""
        if self.input_size != input_size:
            raise SequenceDataError(f"the data has {self.input_size} feature column(s) ({', '.join(self.feature_names)}),"
                                    f" but the model takes {input_size} input feature(s) per step.")

    def step_labels(self, x) -> list[str]:
        rows = np.asarray(x)
        if self.tokens:
            words = self.vocabulary
            return [f"token {int(t)}" + (f" {words[int(t)]!r}" if words and 0 <= int(t) < len(words) else "")
                    for t in rows[:, 0]]
        names = self.feature_names
        return [", ".join(f"{names[j]} {rows[t, j]:.3g}" for j in range(min(len(names), 6))) for t in range(len(rows))]

    # ------------------------------------------------------------------------------------------

    @classmethod
    def from_any(cls, x: Any, feature_names: Sequence[str] | None = None, sequence_id: str | None = None,
                 batch_first: bool = True) -> UserSequences:
        """From a tensor or array ``(batch, time, features)`` (or ``(time, features)`` for one sequence; time-major
        if ``batch_first`` is false), a DataFrame (one sequence, or a long table with a ``sequence_id`` column), or
        the path of a CSV file laid out like that table."""
        if hasattr(x, "columns") and hasattr(x, "to_numpy"):  # a pandas DataFrame
            return cls.from_table([str(c) for c in x.columns], [list(row) for row in x.itertuples(index=False)],
                                  sequence_id)
        if isinstance(x, (str, os.PathLike)):
            path = Path(x)
            if not path.is_file():
                raise SequenceDataError(f"x is text, so it was read as a CSV file's path, but there is no file {path}. "
                                        "Pass a tensor, an array, a DataFrame or the path of a CSV file.")
            return cls.from_csv(path.read_bytes(), sequence_id, name=path.name, max_bytes=MAX_LOCAL_CSV_BYTES)
        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
        if np.iscomplexobj(x):
            raise SequenceDataError("x holds complex numbers; the model takes real ones (use x.real or abs(x)).")
        try:
            array = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise SequenceDataError(f"x must be numbers: a tensor, an array or a table; got {type(x).__name__} that "
                                    "is not all numeric.") from None
        if array.ndim == 2:
            array = array[None]
        elif array.ndim == 3 and not batch_first:
            array = array.transpose(1, 0, 2)
        elif array.ndim != 3:
            raise SequenceDataError(f"x must be (batch, time, features) or (time, features); got shape {array.shape}.")
        return cls(list(array), feature_names)

    @classmethod
    def from_tokens(cls, x: Any, vocabulary: Sequence[str] | None = None, batch_first: bool = True) -> UserSequences:
        """Token ids for a model that embeds them: ``(batch, time)`` (``(time, batch)`` if not ``batch_first``) or
        ``(time,)`` integers, or a list of lists (sequences of different lengths). ``vocabulary[i]`` names token
        ``i`` in the hover labels."""
        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
        if isinstance(x, np.ndarray) and x.ndim == 2 and not batch_first:
            x = x.T
        if isinstance(x, np.ndarray):
            rows = [x] if x.ndim == 1 else list(x)
            if x.ndim not in (1, 2):
                raise SequenceDataError(f"token ids must be (batch, time) or (time,); got shape {x.shape}.")
        else:
            rows = list(x)
            if rows and np.ndim(rows[0]) == 0:
                rows = [rows]
        arrays = []
        for i, row in enumerate(rows):
            array = np.asarray(row)
            if array.dtype.kind not in "iu" or array.ndim != 1:
                raise SequenceDataError(f"sequence {i}: token ids must be a row of integers; got {array.dtype} "
                                        f"shaped {array.shape}.")
            if len(array) and array.min() < 0:
                raise SequenceDataError(f"sequence {i} has the negative token id {int(array.min())}.")
            if len(array) and array.max() >= 2**24:  # kept as float32 for the views, exact below 2**24
                raise SequenceDataError(f"sequence {i} has the token id {int(array.max())}; ids up to 16,777,215 "
                                        "can be shown.")
            arrays.append(array[:, None].astype(np.float64))
        data = cls(arrays, ["token"], title="token ids (hover for each token)")
        data.tokens, data.vocabulary = True, list(vocabulary) if vocabulary is not None else None
        return data

    def check_tokens(self, vocabulary_size: int) -> None:
        """A sentence (``SequenceDataError``) unless every sequence is one column of whole numbers 0 to
        ``vocabulary_size - 1``: token ids a model with that many embeddings can read."""
        if self.input_size != 1:
            raise SequenceDataError(f"this model reads token ids through an embedding, so the sequences need one "
                                    f"column of token ids; these have {self.input_size} ({', '.join(self.feature_names)})."
                                    " Name the column that splits sequences as the id column.")
        for i, sequence in enumerate(self.sequences):
            ids = sequence[:, 0]
            bad = np.flatnonzero((ids != np.round(ids)) | (ids < 0) | (ids >= vocabulary_size))
            if len(bad):
                raise SequenceDataError(f"sequence {self.ids[i]}, step {bad[0] + 1}: {ids[bad[0]]:g} is not a token id "
                                        f"of this model (whole numbers 0 to {vocabulary_size - 1}).")

    def as_tokens(self, vocabulary_size: int) -> UserSequences:
        """These sequences read as token ids, for a model that embeds them (checked by :meth:`check_tokens`)."""
        self.check_tokens(vocabulary_size)
        tokens = UserSequences.from_tokens([s[:, 0].astype(np.int64) for s in self.sequences])
        tokens.ids = list(self.ids)
        return tokens

    @classmethod
    def from_table(cls, header: Sequence[str], rows: Sequence[Sequence[Any]], sequence_id: str | None = None,
                   source: str = "the table") -> UserSequences:
        """Rows are time steps, columns features; an optional ``sequence_id`` column separates sequences."""
        header = [str(h).strip() for h in header]
        if not rows:
            raise SequenceDataError(f"{source} has a header but no rows of data.")
        id_column = None
        if sequence_id is not None:
            if sequence_id not in header:
                raise SequenceDataError(f"{source} has no column {sequence_id!r} to tell the sequences apart; its "
                                        f"columns are {', '.join(header)}.")
            id_column = header.index(sequence_id)
        features = [j for j in range(len(header)) if j != id_column]
        if not features:
            raise SequenceDataError(f"{source} has no feature columns besides {sequence_id!r}.")
        groups: dict[str, list[list[float]]] = {}
        for r, row in enumerate(rows, start=2):
            if len(row) != len(header):
                raise SequenceDataError(f"{source}, line {r}: {len(row)} values for {len(header)} columns.")
            values = []
            for j in features:
                cell = row[j]
                try:
                    value = float(cell)
                except (TypeError, ValueError):
                    raise SequenceDataError(f"{source}, line {r}, column {header[j]!r}: {str(cell)[:40]!r} is not a "
                                            "number.") from None
                if not math.isfinite(value):
                    raise SequenceDataError(f"{source}, line {r}, column {header[j]!r}: "
                                            f"{'NaN' if math.isnan(value) else 'infinity'}; clean the data first.")
                values.append(value)
            key = str(row[id_column]).strip() if id_column is not None else ""
            groups.setdefault(key, []).append(values)
        return cls([np.array(v) for v in groups.values()], [header[j] for j in features],
                   ids=list(groups) if id_column is not None else None)

    @classmethod
    def from_csv(cls, data: bytes, sequence_id: str | None = None, name: str = "the CSV file",
                 max_bytes: int = 5 * 2**20) -> UserSequences:
        """Parse a CSV upload (bytes, never written to disk): a header row, then one row per time step."""
        if len(data) == 0:
            raise SequenceDataError(f"{name} is empty.")
        if len(data) > max_bytes:
            raise SequenceDataError(f"{name} is {len(data) / 2**20:.1f} MB; the limit here is "
                                    f"{max_bytes / 2**20:.0f} MB.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SequenceDataError(f"{name} is not a text file (not UTF-8): is it really a CSV?") from None
        lines = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
        if not lines:
            raise SequenceDataError(f"{name} is empty.")
        header, rows = lines[0], lines[1:]
        if all(_is_number(cell) for cell in header):
            raise SequenceDataError(f"{name} has no header row: its first line should name the columns "
                                    "(for example: time_step_feature_a,feature_b).")
        return cls.from_table(header, rows, sequence_id, source=name)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
