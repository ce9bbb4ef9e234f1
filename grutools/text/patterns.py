"""Patterns in source text, computed from the text itself, and the units that follow them (LSTMVis's idea:
Strobelt et al. 2018, "LSTMVis: a tool for visual analysis of hidden state dynamics in recurrent neural networks").

Each built-in pattern gives one number per character: inside a string literal (0/1), inside a comment (0/1),
bracket depth, indentation level (leading spaces of the line, in fours) and position in the line. A unit follows a
pattern as far as its value along the text correlates with it (Pearson's r, on held-out text; for a 0/1 pattern this
is the point-biserial correlation).
"""

from __future__ import annotations

import re

import numpy as np

PATTERNS = {
    "string": "inside a string literal",
    "comment": "inside a comment",
    "depth": "bracket depth",
    "indent": "indentation level",
    "column": "position in the line",
}
FOLLOWS = 0.5  # |r| from which a unit is said to follow a pattern


def scan(text: str) -> dict[str, np.ndarray]:
    """Every built-in pattern of ``text``, one value per character.

    A string's quotes count as inside it, an escaped quote does not end it, and a ``#`` inside a string starts no
    comment; a comment runs to the end of its line (the newline is outside). Bracket depth counts the brackets
    opened and not yet closed outside strings and comments; an opening bracket is inside its own pair, a closing
    one too. Triple-quoted strings span lines; a one-line string ends at a newline (as Python would refuse it).

    >>> p = scan('x = "a#b" # c\\n')
    >>> ''.join(str(int(v)) for v in p["string"]), ''.join(str(int(v)) for v in p["comment"])
    ('00001111100000', '00000000001110')
    """
    n = len(text)
    string, comment = np.zeros(n), np.zeros(n)
    depth, indent, column = np.zeros(n), np.zeros(n), np.zeros(n)
    quote, escaped, in_comment, level = "", False, False, 0
    line_start, leading, counting = 0, 0, True
    i = 0
    while i < n:
        c = text[i]
        column[i] = i - line_start
        if counting and c == " ":
            leading += 1
        elif counting:
            counting = False
        if quote:
            string[i] = 1
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == "\n" and len(quote) == 1:
                quote, string[i] = "", 0
            elif text.startswith(quote, i):
                string[i:i + len(quote)] = 1
                for k in range(i, min(n, i + len(quote))):
                    column[k] = k - line_start
                    depth[k] = level
                i += len(quote) - 1
                quote = ""
        elif in_comment:
            if c == "\n":
                in_comment = False
            else:
                comment[i] = 1
        elif c == "#":
            in_comment, comment[i] = True, 1
        elif c in "'\"":
            quote = c * 3 if text.startswith(c * 3, i) else c
            string[i:i + len(quote)] = 1
            for k in range(i, min(n, i + len(quote))):
                column[k] = k - line_start
                depth[k] = level
            i += len(quote) - 1
        elif c in "([{":
            level += 1
        depth[i] = level
        if not quote and not in_comment and c in ")]}":
            level = max(0, level - 1)
        if c == "\n":
            indent[line_start:i + 1] = leading / 4
            line_start, leading, counting = i + 1, 0, True
        i += 1
    indent[line_start:] = leading / 4
    return {"string": string, "comment": comment, "depth": depth, "indent": indent, "column": column}


def regex_signal(text: str, expression: str) -> np.ndarray:
    """1 on every character inside a match of the regular expression ``expression``, else 0.

    Raises ``ValueError`` with the compiler's reason if it does not compile, or saying that it matches nothing.
    """
    if not isinstance(expression, str) or not expression:
        raise ValueError("give a regular expression, e.g. def \\w+ or \\bself\\b.")
    if len(expression) > 200:
        raise ValueError(f"the regular expression has {len(expression)} characters; the limit is 200.")
    try:
        pattern = re.compile(expression)
    except re.error as error:
        raise ValueError(f"the regular expression {expression!r} does not compile: {error}.") from None
    signal = np.zeros(len(text))
    for match in pattern.finditer(text):
        signal[match.start():match.end()] = 1
    if not signal.any():
        raise ValueError(f"the regular expression {expression!r} matches nothing in this passage.")
    return signal


def correlations(values: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """Pearson's r of each column of ``values (time, units)`` with ``signal (time,)``; 0 where either is constant."""
    values = np.asarray(values, dtype=np.float64)
    signal = np.asarray(signal, dtype=np.float64)
    if values.ndim != 2 or signal.shape != (values.shape[0],):
        raise ValueError(f"values must be (time, units) and signal (time,); got {values.shape} and {signal.shape}.")
    v = values - values.mean(axis=0)
    s = signal - signal.mean()
    spread = np.sqrt((v ** 2).sum(axis=0) * (s ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (v * s[:, None]).sum(axis=0) / spread
    return np.where(spread > 0, r, 0.0)


def pattern_units(values, signal) -> list[tuple[int, float]]:
    """The units ranked by how well they follow ``signal``: ``[(unit, r), ...]``, the largest ``|r|`` first.

    ``values``: ``(time, units)``, e.g. a trace's hidden states along held-out text; ``signal``: ``(time,)``, e.g.
    ``scan(text)["string"]``. ``r`` is Pearson's correlation (its sign says whether the unit rises or falls).

    >>> rng = np.random.default_rng(0)
    >>> signal = (np.arange(100) % 10 < 3).astype(float)
    >>> values = rng.normal(size=(100, 5)); values[:, 3] += 2 * signal
    >>> pattern_units(values, signal)[0][0]
    3
    """
    r = correlations(values, signal)
    order = np.argsort(-np.abs(r), kind="stable")
    return [(int(u), float(r[u])) for u in order]


def nameless_share(values, patterns: dict[str, np.ndarray], threshold: float = FOLLOWS) -> tuple[float, dict]:
    """The share of units whose ``|r|`` stays under ``threshold`` for every pattern, and each unit's best pattern
    ``{unit: (pattern, r)}``."""
    values = np.asarray(values)
    best: dict[int, tuple[str, float]] = {}
    for name, signal in patterns.items():
        for unit, r in enumerate(correlations(values, signal)):
            if unit not in best or abs(r) > abs(best[unit][1]):
                best[unit] = (name, float(r))
    nameless = sum(1 for _, r in best.values() if abs(r) < threshold)
    return nameless / max(1, values.shape[1]), best


CLASSES = {
    "letter": str.isalpha,
    "digit": str.isdigit,
    "space": lambda c: c == " ",
    "newline": lambda c: c == "\n",
    "bracket": lambda c: c in "()[]{}",
    "quote": lambda c: c in "'\"",
    "other punctuation": lambda c: not (c.isalnum() or c in " \n()[]{}'\""),
}


def char_classes(text: str) -> np.ndarray:
    """The class of each character (an index into :data:`CLASSES`)."""
    names = list(CLASSES)
    out = np.empty(len(text), dtype=int)
    for i, c in enumerate(text):
        out[i] = next(k for k, name in enumerate(names) if CLASSES[name](c))
    return out
