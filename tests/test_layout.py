"""The library's layout: data flows one way through layers, no module imports a higher one
(so there are no import cycles), no module is large, and each says what it owns."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "datadiet_core"
# Lowest first. A module may import only modules of lower layers. `selection` sits with the
# other pure array code: it knows nothing of training, and profiles validate selector names.
LAYERS = [
    {"transfer"},
    {"data", "tensors", "devices", "models", "stats", "selection"},
    {"profiles"},
    {"recipe", "engine"},
    {"train"},
    {"scores"},
    {"store"},
    {"runs"},
    {"bank"},
    {"dynamic"},
    {"c1", "c2", "c3"},
    {"c2_picks", "c3_picks", "c3_settings", "exports", "headlines"},
    {"summaries"},
    {"report"},
    {"report_c1", "report_c2", "report_c3", "report_c3_cost", "regimes"},
    {"plots"},
    {"sweep"},
    {"book", "bench"},
    {"stretch"},
    {"cli"},
    {"__main__"},
]
LAYER = {m: i for i, layer in enumerate(LAYERS) for m in layer}
# Imports that may wait until a function runs: the CLI loads each command's modules only when
# that command runs, and Ray is needed only by its engine.
LAZY_OK = {"cli": None, "sweep": {"ray"}}
MAX_LINES = 500


def modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def internal_imports(name: str) -> list[tuple[str, bool]]:
    """(imported module of the package, imported inside a function?) for every import of ``name``."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            nested = node.col_offset > 0
            if node.module:
                out.append((node.module.split(".")[0], nested))
            else:
                out += [(a.name, nested) for a in node.names if (PACKAGE / f"{a.name}.py").exists()]
    return out


def test_every_module_has_a_layer():
    assert set(modules()) == set(LAYER)


@pytest.mark.parametrize("name", sorted(LAYER))
def test_imports_only_go_down(name):
    up = [m for m, _ in internal_imports(name) if LAYER[m] >= LAYER[name]]
    assert not up, f"{name} (layer {LAYER[name]}) imports {up}"


@pytest.mark.parametrize("name", modules())
def test_imports_are_at_the_top_unless_optional(name):
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    late = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    late += [a.name.split(".")[0] for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    late.append("." + (node.module or "") if node.level else node.module.split(".")[0])
    allowed = LAZY_OK.get(name, set())
    assert allowed is None or set(late) <= allowed, f"{name} imports {late} inside functions"


@pytest.mark.parametrize("name", modules() + ["__init__"])
def test_modules_are_small_and_say_what_they_own(name):
    path = PACKAGE / f"{name}.py"
    assert len(path.read_text().splitlines()) <= MAX_LINES
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert name == "__main__" or (doc and len(doc) > 40), f"{name} has no opening docstring"


def test_the_package_docstring_lists_every_module():
    doc = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text()))
    missing = [m for m in modules() if m != "__main__" and f"``{m}``" not in doc]
    assert not missing, f"datadiet_core/__init__.py does not describe {missing}"


def test_the_layer_checker_sees_function_local_imports(tmp_path):
    # The checker itself must be able to fail: a nested relative import is found and flagged.
    tree = ast.parse("def f():\n    from .book import build\n")
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))
    assert node.level == 1 and node.col_offset > 0 and node.module == "book"
