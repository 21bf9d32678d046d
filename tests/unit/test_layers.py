"""The package's layering, read from the source with ``ast`` (nothing is imported).

Layers, bottom up (README, Architecture): errors, kernels < utils < io < data < feats, corpora <
hmm, nnet < decode < cli. A module may import from its own package and from lower layers only;
packages on the same layer (feats and corpora, hmm and nnet) do not import each other. Imports
of asrkt inside a function are allowed only in asrkt/cli/ (click commands keep --help fast);
elsewhere they hide import cycles and make the layering unreadable. No module-level import
cycles between modules.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "asrkt"

# package (first component under asrkt) -> layer; ``""`` is asrkt/__init__.py (__version__;
# it runs kernels.py's pinning before anything imports torch)
LAYERS: Dict[str, int] = {
    "errors": 0, "kernels": 0,
    "": 1, "utils": 1,
    "io": 2,
    "data": 3,
    "feats": 4, "corpora": 4,
    "hmm": 5, "nnet": 5,
    "decode": 6,
    "cli": 7,
    "__main__": 8,  # python -m asrkt: the entry point above the CLI
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str) -> str:
    """``asrkt.nnet.models.base`` -> ``nnet``; ``asrkt`` -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def asrkt_imports(path: Path) -> Iterator[Tuple[str, int, bool]]:
    """(imported asrkt name, line, inside a function) for every import in ``path``; ``from X
    import a`` gives ``X.a`` (a module or a name in X: see :func:`resolve`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    own = module_name(path)
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST, in_function: bool) -> Iterator[Tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                      ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "asrkt":
                        yield alias.name, child.lineno, in_function
            elif isinstance(child, ast.ImportFrom):
                if child.level:  # relative: resolve against this module
                    base = own.split(".") if is_package else own.split(".")[:-1]
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.split(".")[0] == "asrkt":
                    for alias in child.names:
                        yield f"{target}.{alias.name}", child.lineno, in_function
            yield from visit(child, inner)

    yield from visit(tree, False)


def resolve(name: str, modules: Set[str]) -> str:
    """The module ``name`` lives in: itself, or the nearest enclosing module."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def all_modules() -> List[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_package_has_a_layer():
    packages = {package_of(module_name(p)) for p in all_modules()}
    assert packages - set(LAYERS) == set(), "add the new package to LAYERS and the README"


def test_no_import_goes_up_or_sideways():
    modules = {module_name(p) for p in all_modules()}
    problems = []
    for path in all_modules():
        own = package_of(module_name(path))
        for target, line, _ in asrkt_imports(path):
            other = package_of(resolve(target, modules))
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            if other == own:
                continue
            if LAYERS[other] > LAYERS[own]:
                problems.append(f"{where}: {own or 'asrkt'} imports {target} from a higher layer")
            elif LAYERS[other] == LAYERS[own]:
                problems.append(f"{where}: {own} imports {target} from the same layer")
    assert problems == []


def test_no_asrkt_import_inside_functions_outside_cli():
    problems = [f"{path.relative_to(PACKAGE.parent)}:{line}: imports {target} inside a function"
                for path in all_modules() if package_of(module_name(path)) != "cli"
                for target, line, inside in asrkt_imports(path) if inside]
    assert problems == []


def _module_graph() -> Dict[str, Set[str]]:
    paths = {module_name(p): p for p in all_modules()}
    graph: Dict[str, Set[str]] = {m: set() for m in paths}
    for name, path in paths.items():
        for target, _, inside in asrkt_imports(path):
            target = resolve(target, set(paths))
            if not inside and target != name:
                graph[name].add(target)
    return graph


def import_cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    cycles: List[List[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return cycles


def test_no_module_import_cycles():
    assert import_cycles(_module_graph()) == []


@pytest.mark.parametrize("source, expected", [
    ("def f():\n    from asrkt.nnet import dbn\n", [("asrkt.nnet.dbn", 2, True)]),
    ("import asrkt.io.tables as t\n", [("asrkt.io.tables", 1, False)]),
    ("class A:\n    def m(self):\n        import asrkt.data\n", [("asrkt.data", 3, True)]),
    ("from . import dbn\n", [("asrkt.nnet.dbn", 1, False)]),
    ("from ..feats.pipeline import FeaturePipeline\n",
     [("asrkt.feats.pipeline.FeaturePipeline", 1, False)]),
    ("import os\nfrom numpy import array\n", []),
])
def test_the_import_reader_sees_each_form(tmp_path, monkeypatch, source, expected):
    fake = tmp_path / "asrkt" / "nnet" / "steps.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "asrkt")
    assert list(asrkt_imports(fake)) == expected


def test_resolve_maps_a_name_to_its_module():
    modules = {"asrkt", "asrkt.nnet", "asrkt.nnet.dbn"}
    assert resolve("asrkt.nnet.dbn.load_dbn", modules) == "asrkt.nnet.dbn"
    assert resolve("asrkt.__version__", modules) == "asrkt"


def test_cycle_finder_finds_a_two_module_cycle():
    graph = {"a": {"b"}, "b": {"a", "c"}, "c": set()}
    assert import_cycles(graph) == [["a", "b"]]
