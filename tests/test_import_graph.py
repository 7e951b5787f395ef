"""No import circles: between modules, and between the packages of otrs_ext below the composition layer.

The graph is read from the source with ``ast`` (nothing is imported): every module of ``otrs_ext/`` (Alembic's
migrations aside) and ``schema_maps/``. Imports under ``if TYPE_CHECKING:`` are left out (they never run);
imports inside functions count (they run, only later). ``from pkg import name`` is an edge to ``pkg.name``
when that is a module, and to ``pkg`` itself (whose ``__init__`` runs first).

(a) No module may import itself through others.
(b) The packages of otrs_ext (``otrs_ext.api``, ``otrs_ext.events``, ``otrs_ext.search``, ...; a top-level
    module such as ``otrs_ext.settings`` counts as one, and ``schema_maps`` as another) form no circle once the
    edges leaving the composition layer are dropped. The composition layer may import anything, since it is
    where the packages are put together: ``otrs_ext.runtime``, every ``compose`` module, ``otrs_ext.cli`` and
    its modules, and the Flask app factory ``otrs_ext.api.app`` (it registers the blueprints of every package
    that serves pages, which in turn use the API's request context). The event handlers
    (``otrs_ext.events.handlers``) are adapters in the same sense: each feeds a service package (search, and
    next tags, pool, stats) that itself builds on ``otrs_ext.events``.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("otrs_ext", "schema_maps")

# Package circles allowed for now, each as the set of packages it spans. The last one (api <-> screens) went with
# api/context.py, api/gi/ and the auth service package; a new entry needs a reason and an issue to remove it.
KNOWN: set[frozenset[str]] = set()

Graph = dict[str, set[str]]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(name: str, path: Path) -> set[str]:
    """Every dotted name ``name`` (the module at ``path``) imports, at any depth, but not for type checking."""
    is_package = path.name == "__init__.py"
    names: set[str] = set()

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking_only(child):
                for alternative in child.orelse:
                    walk_one(alternative)
            else:
                walk_one(child)

    def walk_one(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        else:
            walk(node)

    walk(ast.parse(path.read_text(encoding="utf-8")))
    return names


def module_graph() -> Graph:
    """module -> the modules of otrs_ext and schema_maps it imports."""
    modules = _modules()
    graph: Graph = {}
    for name, path in modules.items():
        edges = set()
        for imported in _imported(name, path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                edges.add(imported)
        graph[name] = edges
    return graph


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "otrs_ext" and len(parts) > 1 else parts[0]


def composition(module: str) -> bool:
    return (module == "otrs_ext.runtime" or module.rpartition(".")[2] == "compose"
            or package_of(module) == "otrs_ext.cli" or module == "otrs_ext.api.app"
            or module.startswith("otrs_ext.events.handlers."))


def package_graph(modules: Graph) -> tuple[Graph, dict[tuple[str, str], list[str]]]:
    """package -> packages it imports (edges leaving the composition layer dropped), with the module edges
    behind each package edge."""
    graph: Graph = {}
    why: dict[tuple[str, str], list[str]] = {}
    for module, imported in modules.items():
        source = package_of(module)
        graph.setdefault(source, set())
        if composition(module):
            continue
        for target_module in sorted(imported):
            target = package_of(target_module)
            if target != source:
                graph[source].add(target)
                why.setdefault((source, target), []).append(f"{module} -> {target_module}")
    return graph, why


def circles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def one_loop(graph: Graph, members: Iterable[str]) -> str:
    """A shortest loop through the first member of a circle, as ``a -> b -> a``."""
    inside = set(members)
    start = min(inside)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph.get(node, ())):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return " -> ".join([*reversed(path), start])
            if target in inside and target not in came_from:
                came_from[target] = node
                queue.append(target)
    return " -> ".join(sorted(inside))


def _known(packages: Iterable[str]) -> bool:
    return frozenset(packages) in KNOWN


def test_no_module_imports_itself_through_others() -> None:
    graph = module_graph()
    new = [circle for circle in circles(graph) if not _known(package_of(m) for m in circle)]
    assert not new, "import circles between modules:\n" + "\n".join(
        f"  {one_loop(graph, circle)}\n    (all of: {', '.join(circle)})" for circle in new)


def test_packages_below_the_composition_layer_form_no_circle() -> None:
    graph, why = package_graph(module_graph())
    new = [circle for circle in circles(graph) if not _known(circle)]
    report = []
    for circle in new:
        report.append(f"  {one_loop(graph, circle)}")
        report.extend(f"    {edge}" for a in circle for b in sorted(graph[a] & set(circle))
                      for edge in why[(a, b)])
    assert not new, "import circles between packages (edges from the composition layer left out):\n" + "\n".join(
        report)


def test_every_known_circle_still_exists() -> None:
    modules = module_graph()
    packages, _ = package_graph(modules)
    present = {frozenset(package_of(m) for m in circle) for circle in circles(modules)}
    present |= {frozenset(circle) for circle in circles(packages)}
    gone = KNOWN - present
    assert not gone, f"KNOWN lists circles that are gone, remove them: {[sorted(c) for c in gone]}"


def test_the_analysis_sees_a_circle(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert one_loop(graph, ["a", "b", "c"]) == "a -> b -> c -> a"
    source = tmp_path / "mod.py"
    source.write_text("from typing import TYPE_CHECKING\nfrom . import sibling\nif TYPE_CHECKING:\n"
                      "    from ..typed import T\nelse:\n    import untyped\n"
                      "def late():\n    from .later import f\n")
    assert _imported("pkg.sub.mod", source) == {"typing", "typing.TYPE_CHECKING", "pkg.sub", "pkg.sub.sibling",
                                                "untyped", "pkg.sub.later", "pkg.sub.later.f"}
