"""The baselines a character model must beat: the unigram model, and an n-gram model with interpolated Kneser-Ney
smoothing (Chen & Goodman 1999, "An empirical study of smoothing techniques for language modeling", eq. 26 with
one discount per order), both counted on the training text.

Interpolated Kneser-Ney, for a context h of n - 1 characters and its shorter context h' (h without its first
character)::

    P(c | h) = max(N(h c) - D, 0) / N(h .) + D * T(h) / N(h .) * P(c | h')

where at the highest order N counts occurrences, and at every lower order N(h c) counts the *distinct characters
seen before* h c (continuation counts: how many contexts a string completes, not how often); T(h) is the number of
distinct characters seen after h, and D = n1 / (n1 + 2 n2) from the counts of counts at that order. A context never
seen passes its whole mass to h'. Below the unigram level sits the uniform distribution over the vocabulary, so
that every character has a probability.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from .corpus import INDEX, OOV, VOCABULARY


class KneserNey:
    """An interpolated Kneser-Ney character model of ``order`` (1 to 6) counted on ``text``.

    >>> model = KneserNey("abab", order=2)
    >>> round(model.probability("b", "a"), 4)
    0.8351
    """

    def __init__(self, text: str, order: int = 5, vocabulary: str = VOCABULARY) -> None:
        if not isinstance(order, int) or not 1 <= order <= 6:
            raise ValueError(f"order must be an integer from 1 to 6; got {order!r}.")
        if len(text) < order:
            raise ValueError(f"the training text needs at least {order} characters.")
        self.order, self.vocabulary = order, vocabulary
        known = set(vocabulary)
        text = "".join(c if c in known else OOV for c in text)
        # counts[k][(context, c)]: occurrences at the highest order, continuation counts below it
        top = Counter(text[i:i + order] for i in range(len(text) - order + 1))
        self.counts: list[dict[str, dict[str, int]]] = [dict() for _ in range(order + 1)]
        for gram, n in top.items():
            self.counts[order].setdefault(gram[:-1], {})[gram[-1]] = n
        # the first order - 1 characters start no full gram: count their shorter grams as occurrences too, as
        # the text's start is a context of its own (standard practice pads it; this is the same for long texts)
        for k in range(order - 1, 0, -1):
            continuation: dict[str, set[str]] = defaultdict(set)
            for gram in (top if k == order - 1 else self._grams(k + 1)):
                continuation[gram[1:]].add(gram[0])
            table: dict[str, dict[str, int]] = {}
            for gram, left in continuation.items():
                table.setdefault(gram[:-1], {})[gram[-1]] = len(left)
            self.counts[k] = table
        self.discount = [0.0] * (order + 1)
        self.totals: list[dict[str, tuple[int, int]]] = [dict() for _ in range(order + 1)]
        for k in range(1, order + 1):
            counts_of_counts = Counter(n for followers in self.counts[k].values() for n in followers.values())
            n1, n2 = counts_of_counts.get(1, 0), counts_of_counts.get(2, 0)
            self.discount[k] = n1 / (n1 + 2 * n2) if n1 + n2 else 0.5
            self.totals[k] = {h: (sum(f.values()), len(f)) for h, f in self.counts[k].items()}

    def _grams(self, k: int):
        for h, followers in self.counts[k].items():
            for c in followers:
                yield h + c

    def probability(self, c: str, history: str) -> float:
        """P(``c`` | the characters before it, ``history``): only its last ``order - 1`` characters count."""
        p = 1.0 / len(self.vocabulary)  # below the unigram: uniform
        for k in range(1, self.order + 1):
            h = history[len(history) - (k - 1):] if k > 1 else ""
            if k > 1 and len(history) < k - 1:
                break
            total = self.totals[k].get(h)
            if total is None:  # context never seen: the lower order's estimate stands
                continue
            n, types = total
            d = self.discount[k]
            p = max(self.counts[k][h].get(c, 0) - d, 0.0) / n + d * types / n * p
        return p

    def bits_per_char(self, text: str) -> float:
        """Mean surprise in bits at each character of ``text`` after the first, as
        :func:`grutools.text.bits_per_char` measures a network."""
        known = set(self.vocabulary)
        text = "".join(ch if ch in known else OOV for ch in text)
        if len(text) < 2:
            raise ValueError("bits_per_char needs a string of at least two characters.")
        total = 0.0
        for i in range(1, len(text)):
            total -= math.log2(self.probability(text[i], text[max(0, i - self.order + 1):i]))
        return total / (len(text) - 1)


def unigram_bits(train: str, text: str, vocabulary: str = VOCABULARY) -> float:
    """Bits per character of ``text`` under the training text's character frequencies (add-one smoothed)."""
    counts = Counter(c if c in INDEX else OOV for c in train)
    total = sum(counts.values()) + len(vocabulary)
    chars = [c if c in INDEX else OOV for c in text[1:]]
    return -sum(math.log2((counts.get(c, 0) + 1) / total) for c in chars) / len(chars)
