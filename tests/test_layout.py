"""The package's wings and the one-way arrows between them (docs/architecture.md), read from the code itself."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "grutools"
WINGS = ("core", "lessons", "speech", "text", "yours", "plots", "apps", "classroom", "testing")
# what each wing may import of the others: arrows run one way, apps -> lessons and plots -> core
ALLOWED = {
    "core": set(),
    "lessons": {"core"},
    "speech": {"core", "lessons"},  # the GRU at work on sound (dashboard 09): grutools.speech.features, predict
    "text": {"core", "lessons"},  # the GRU at work on text (dashboard 10): grutools.text.bits_per_char, ...
    "yours": {"core", "lessons"},
    "plots": {"core"},
    "apps": {"core", "lessons", "speech", "text", "yours", "plots"},
    "classroom": {"core", "apps"},  # serving the apps (export runs them into static pages)
    "testing": {"core", "classroom"},
}
GUI = ("ipywidgets", "voila", "plotly", "jupyter_server", "playwright", "anywidget")


def grutools_imports(path: Path) -> set[str]:
    """The ``grutools.X...`` modules a file imports (relative imports resolved), at any depth in the file."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    if path.name == "__init__.py":
        module = module.removesuffix(".__init__")
        package = module
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names] if not node.module else [target]
            found |= {n for n in names if n.startswith("grutools")}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("grutools")}
    return found


def wing_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in WINGS else None


def test_every_module_lives_in_a_wing():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "cli.py"], f"modules outside a wing: {top}"
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))) == sorted(WINGS)


@pytest.mark.parametrize("wing", WINGS)
def test_a_wing_imports_only_what_its_arrows_allow(wing):
    wrong = []
    for path in sorted((PACKAGE / wing).rglob("*.py")):
        for target in grutools_imports(path):
            other = wing_of(target)
            if other is None and target != "grutools":
                other = target.split(".")[1] if "." in target else None
            if target == "grutools" or (other and other != wing and other not in ALLOWED[wing]):
                wrong.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_wings_import_one_another_without_a_circle():
    """Wing to wing, the imports form no cycle of any length (a wing's own modules may import one another)."""
    edges: dict[str, set[str]] = {wing: set() for wing in WINGS}
    for wing in WINGS:
        for path in (PACKAGE / wing).rglob("*.py"):
            edges[wing] |= {w for t in grutools_imports(path) if (w := wing_of(t)) and w != wing}
    state: dict[str, str] = {}

    def visit(wing: str, path: list[str]) -> None:
        state[wing] = "open"
        for other in sorted(edges[wing]):
            assert state.get(other) != "open", f"a circle of wings: {' -> '.join(path + [other])}"
            if other not in state:
                visit(other, path + [other])
        state[wing] = "done"

    for wing in WINGS:
        if wing not in state:
            visit(wing, [wing])


def test_no_module_imports_one_that_imports_it_back():
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        graph[name] = {t for t in grutools_imports(path)}
    circles = sorted(f"{a} <-> {b}" for a, targets in graph.items() for b in targets
                     if a < b and a in graph.get(b, set()))
    assert not circles, circles


def test_core_lessons_and_yours_load_no_widgets_voila_or_plotly():
    modules = sorted(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
                     for wing in ("core", "lessons", "yours") for p in (PACKAGE / wing).glob("*.py"))
    script = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
              f"print(sorted(g for g in {GUI!r} if g in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", f"importing core, lessons and yours loaded {loaded}"


def test_import_grutools_loads_no_widgets_and_still_offers_explore():
    script = (f"import sys, grutools; before = sorted(g for g in {GUI!r} if g in sys.modules); "
              "from grutools import explore; print(before, explore.__module__)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "grutools.apps.explore"]


def test_modules_stay_near_their_size():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 420}
    assert not long, f"modules past ~400 lines, split them: {long}"
