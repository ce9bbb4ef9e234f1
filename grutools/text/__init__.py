"""A GRU reads: a character model of Python source (dashboard 10).

    bits_per_char(model, text)        the model's mean surprise in bits at each character after the first
    pattern_units(values, signal)     units ranked by how well they follow a pattern (Pearson's r)
    KneserNey(text, order)            the n-gram baseline; unigram_bits(train, text)
    CharText, char_model, sample_text the task, the model, sampling at a temperature
    scan(text), regex_signal(text, e) the built-in patterns of source text, and one of your own
"""

from .corpus import OOV, VOCABULARY, clean, decode, encode, load_text
from .language import CharText, bits_per_char, char_model, check_text, sample_text
from .ngram import KneserNey, unigram_bits
from .patterns import PATTERNS, nameless_share, pattern_units, regex_signal, scan

__all__ = ["OOV", "PATTERNS", "VOCABULARY", "CharText", "KneserNey", "bits_per_char", "char_model", "check_text",
           "clean", "decode", "encode", "load_text", "nameless_share", "pattern_units", "regex_signal", "sample_text",
           "scan", "unigram_bits"]
