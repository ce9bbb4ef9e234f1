"""The text a character model reads: Python's own standard library, shipped in ``data/text/``.

Source code has the long-range structure of Karpathy, Johnson & Fei-Fei's Linux corpus (2015): brackets that
close far from where they open, strings, comments, indentation. A fixed list of modules of Python 3.11's standard
library (PSF licence, shipped beside it) is split *by file* into training, validation and test text, so that no
test module was seen in training.

Characters outside :data:`VOCABULARY` (non-ASCII letters, tabs, form feeds) become one stated symbol, :data:`OOV`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from ..core.resources import data_dir

DATA = data_dir() / "text"
OOV = "\ufffd"  # "�": every character outside the vocabulary
VOCABULARY = "\n" + "".join(chr(c) for c in range(32, 127)) + OOV  # newline, printable ASCII, the stand-in
INDEX = {c: i for i, c in enumerate(VOCABULARY)}
SPLITS = ("train", "valid", "test")
# by file: module paths under the standard library, in the order they are concatenated
MODULES = {
    "train": ["argparse", "asyncio/base_events", "asyncio/tasks", "calendar", "collections/__init__", "configparser",
              "csv", "dataclasses", "datetime", "difflib", "email/message", "fractions", "ftplib", "functools",
              "gettext", "glob", "gzip", "heapq", "http/client", "ipaddress", "json/decoder", "logging/__init__",
              "numbers", "optparse", "pathlib", "pickle", "queue", "random", "shutil", "statistics", "string",
              "subprocess"],
    "valid": ["tempfile", "textwrap", "threading", "uuid"],
    "test": ["pprint", "tokenize", "traceback", "wave", "urllib/parse"],
}
SEPARATOR = "\n\n"  # between two modules


def encode(text: str) -> torch.Tensor:
    """Character ids (``int64``); a character outside the vocabulary becomes :data:`OOV`'s id."""
    oov = INDEX[OOV]
    return torch.tensor([INDEX.get(c, oov) for c in text], dtype=torch.long)


def decode(ids) -> str:
    """The text of character ids."""
    return "".join(VOCABULARY[int(i)] for i in ids)


def clean(text: str) -> str:
    """``text`` with every character outside the vocabulary replaced by :data:`OOV` (a tab counts as outside)."""
    return "".join(c if c in INDEX else OOV for c in text)


def outside(text: str) -> list[str]:
    """The distinct characters of ``text`` outside the vocabulary, in order of first appearance."""
    seen: dict[str, None] = {}
    for c in text:
        if c not in INDEX:
            seen.setdefault(c, None)
    return list(seen)


def build_corpus(out: str | Path = DATA, stdlib: str | Path | None = None) -> dict[str, int]:
    """Write ``train.txt``, ``valid.txt`` and ``test.txt`` (cleaned) and the PSF licence into ``out``, from the
    standard library at ``stdlib`` (this Python's by default); returns each split's characters."""
    import sysconfig

    stdlib = Path(stdlib or sysconfig.get_paths()["stdlib"])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for split, modules in MODULES.items():
        texts = []
        for module in modules:
            path = stdlib / f"{module}.py"
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing: the corpus is built from Python 3.11's standard library.")
            texts.append(path.read_text(encoding="utf-8"))
        text = clean(SEPARATOR.join(texts))
        (out / f"{split}.txt").write_text(text, encoding="utf-8")
        sizes[split] = len(text)
    licence = stdlib / "LICENSE.txt"
    if licence.is_file():
        (out / "PYTHON_LICENSE.txt").write_text(licence.read_text(encoding="utf-8"), encoding="utf-8")
    (out / "SOURCE.txt").write_text(f"Python {sys.version.split()[0]} standard library, {stdlib}\n"
                                    + "".join(f"{split}: {', '.join(m + '.py' for m in mods)}\n"
                                              for split, mods in MODULES.items()), encoding="utf-8")
    return sizes


def load_text(split: str, folder: str | Path = DATA) -> str:
    """One split of the shipped corpus."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}.")
    path = Path(folder) / f"{split}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; `python -m grutools text-data` writes it (see data/README.md).")
    return path.read_text(encoding="utf-8")
