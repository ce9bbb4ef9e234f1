"""The README and docs/ name only what exists: files, images, headings, make targets, commands, scripts and modules.

Read from the Markdown itself, offline. Commands (``make X``, ``grutools X``) are looked for in code (fenced
blocks and inline code), where the pages write them; links are looked for outside code. The section
"Old path, new path" of docs/architecture.md names the paths from before the reorganisation on purpose,
so it is left out of the checks of paths and modules.
"""

import argparse
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]
IDS = [str(page.relative_to(ROOT)) for page in PAGES]

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)
INLINE = re.compile(r"`[^`\n]+`")
LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
MAKE = re.compile(r"(?<![\w$/.-])make[ \t]+([a-z][\w-]*)")
COMMAND = re.compile(r"(?<![\w.-])grutools[ \t]+([a-z][\w-]*)")
PATH = re.compile(r"(?<![\w./~-])((?:scripts|benchmarks|tests|grutools|deploy|data|notebooks|share|docs)/[\w./-]*)")
MODULE = re.compile(r"(?<![\w./-])grutools(?:\.[A-Za-z_]\w*)+")
OLD_PATHS = "Old path, new path"
MAX_README_LINES = 160
MAX_IMAGE_BYTES = 300 * 1024


def without_code(text: str) -> str:
    """``text`` with its fenced code blocks and inline code blanked (a link in code is not a link)."""
    return INLINE.sub(" ", FENCE.sub(" ", text))


def code_of(text: str) -> str:
    """The code of ``text``: every fenced block and every inline code span, one after another."""
    blocks = [match.group(0) for match in FENCE.finditer(text)]
    spans = [match.group(0) for match in INLINE.finditer(FENCE.sub(" ", text))]
    return "\n".join(blocks + spans)


def current(text: str) -> str:
    """``text`` without its "Old path, new path" section (headed by that title, up to the next heading as high)."""
    for match in HEADING.finditer(text):
        if match.group(2).strip() == OLD_PATHS:
            level = len(match.group(1))
            rest = text[match.end():]
            end = next((h.start() for h in HEADING.finditer(rest) if len(h.group(1)) <= level), len(rest))
            return text[: match.start()] + rest[end:]
    return text


def links(page: Path) -> list[tuple[bool, str]]:
    """Every link of ``page`` outside code, as ``(is_image, target)``."""
    return [(bang == "!", target) for bang, _, target in LINK.findall(without_code(page.read_text()))]


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: markup and punctuation dropped, lower case, spaces to hyphens."""
    text = LINK.sub(lambda m: m.group(2), heading)
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors a page's headings give (a repeated heading gets ``-1``, ``-2``... as on GitHub)."""
    seen: dict[str, int] = {}
    found = set()
    for match in HEADING.finditer(FENCE.sub(" ", page.read_text())):
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {name for names in re.findall(r"^([\w.%-][\w.% -]*?)\s*:(?![:=])", text, re.M) for name in names.split()}


def cli_commands() -> set[str]:
    from grutools.cli import build_parser

    parser = build_parser()
    return {name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name in action.choices}


def importable(name: str) -> bool:
    """Whether ``a.b.c`` names something: the longest prefix that imports, then attributes for the rest."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            thing = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for part in parts[cut:]:
                thing = getattr(thing, part)
        except AttributeError:
            return False
        return True
    return False


def test_the_docs_are_there():
    names = {page.relative_to(ROOT).as_posix() for page in PAGES}
    assert {"docs/README.md", "docs/teachers.md", "docs/practitioners.md", "docs/measurements.md",
            "docs/architecture.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_every_relative_link_resolves(page):
    broken = []
    for _, target in links(page):
        if SCHEME.match(target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        resolved = (page.parent / path).resolve()
        if not resolved.exists() or not resolved.is_relative_to(ROOT):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to what is not in the repository: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_every_anchor_names_a_heading(page):
    broken = []
    for _, target in links(page):
        if SCHEME.match(target) or "#" not in target:
            continue
        path, anchor = target.split("#", 1)
        other = (page.parent / path).resolve() if path else page
        if other.suffix == ".md" and other.exists() and anchor not in anchors(other):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to headings that are not there: {broken}"


def test_the_readme_shows_screenshots_that_exist_and_are_small():
    images = [target for is_image, target in links(README) if is_image and not SCHEME.match(target)]
    assert len(images) >= 2, "the README shows the dashboards"
    for target in images:
        path = ROOT / target
        assert path.is_file(), f"the README shows {target}, which is not in the repository"
        size = path.stat().st_size
        assert size < MAX_IMAGE_BYTES, f"{target} is {size / 1024:.0f} KB; shrink it below {MAX_IMAGE_BYTES // 1024} KB"


def test_the_readme_is_a_front_door():
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_README_LINES, f"the README has {lines} lines; move detail into docs/ (at most {MAX_README_LINES})"


def test_every_make_target_named_is_in_the_makefile():
    targets = make_targets()
    named = {(page, target) for page in PAGES for target in MAKE.findall(code_of(page.read_text()))}
    assert {"test", "dashboards"} <= {target for _, target in named}
    missing = sorted(f"{page.relative_to(ROOT)}: make {target}" for page, target in named if target not in targets)
    assert not missing, f"not targets of the Makefile: {missing}"


def test_every_grutools_command_named_exists():
    commands = cli_commands()
    named = {(page, command) for page in PAGES for command in COMMAND.findall(code_of(page.read_text()))}
    assert "serve" in {command for _, command in named}
    missing = sorted(f"{page.relative_to(ROOT)}: grutools {command}" for page, command in named
                     if command not in commands)
    assert not missing, f"not commands of `python -m grutools --help`: {missing}"


def test_every_repository_path_named_exists():
    named = {(page, path.rstrip(".")) for page in PAGES for path in PATH.findall(current(page.read_text()))}
    assert any(path.startswith("scripts/") for _, path in named) and any(path.startswith("benchmarks/")
                                                                        for _, path in named)
    missing = sorted(f"{page.relative_to(ROOT)}: {path}" for page, path in named if not (ROOT / path).exists())
    assert not missing, f"not in the repository: {missing}"


def test_every_grutools_module_named_imports():
    named = {(page, name.rstrip(".")) for page in PAGES for name in MODULE.findall(current(page.read_text()))}
    assert any(name.count(".") >= 2 for _, name in named)
    missing = sorted(f"{page.relative_to(ROOT)}: {name}" for page, name in named if not importable(name))
    assert not missing, f"these do not import: {missing}"
