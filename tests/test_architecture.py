"""The shape of the code: no import cycles, no oversized modules, thin views.

import-linter (``lint-imports``, contracts in pyproject.toml) checks which layer may import
which; these tests check what a contract cannot express.
"""
from __future__ import annotations

import inspect
from pathlib import Path

import grimp

from tests.fixtures.app import make_app

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("booking", "courses")
#: Where the application's own code lives (tests and migrations are not held to the limit).
SOURCE_DIRS = ("booking", "courses", "benchmarks")
MAX_MODULE_LINES = 400
MAX_VIEW_LINES = 40


def import_cycles(graph) -> list[str]:
    """Every direct import that closes a loop, as the loop it closes (one line each).

    A package's ``__init__`` importing its own submodules counts like any other import.
    """
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycles.append(" -> ".join((importer, *back)))
    return cycles


def test_no_module_takes_part_in_an_import_cycle():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def source_files() -> list[Path]:
    files = sorted(ROOT.glob("*.py"))
    for directory in SOURCE_DIRS:
        files += sorted((ROOT / directory).rglob("*.py"))
    return files


def test_no_module_is_over_400_lines():
    files = source_files()
    assert any(path.name == "cli.py" for path in files), "no source files found"
    sizes = {path.relative_to(ROOT): len(path.read_text(encoding="utf-8").splitlines())
             for path in files}
    too_long = [f"{path}: {lines} lines" for path, lines in sorted(sizes.items())
                if lines > MAX_MODULE_LINES]
    assert not too_long, (f"modules over {MAX_MODULE_LINES} lines (split them along a seam):\n"
                          + "\n".join(too_long))


def view_sizes(app) -> dict[str, int]:
    """``endpoint (file:line)`` -> lines of source of each view function, decorators included."""
    sizes = {}
    for endpoint, view in sorted(app.view_functions.items()):
        function = inspect.unwrap(view)
        lines, first = inspect.getsourcelines(function)
        path = Path(inspect.getsourcefile(function)).resolve()
        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        sizes[f"{endpoint} ({where}:{first})"] = len(lines)
    return sizes


def test_no_view_function_is_over_40_lines(tmp_path):
    sizes = view_sizes(make_app(f"sqlite:///{tmp_path / 'views.db'}"))
    assert len(sizes) > 10, "the app has (almost) no views: is every blueprint registered?"
    too_long = [f"{view}: {lines} lines" for view, lines in sizes.items()
                if lines > MAX_VIEW_LINES]
    assert not too_long, (f"view functions over {MAX_VIEW_LINES} lines (move the work into a "
                          "use case, a form or a template):\n" + "\n".join(too_long))
