"""The architecture as import rules, checked on the source with ast (nothing is imported, so it
is instant): no import circles among vitlab's modules (tui/ included, as vitlab.tui);
the TUI never reaches TensorFlow, Keras or JAX; experiments never import each other or the
runner; the data side never imports the dataset makers in data_prep (they import it); the
model-spec grammar stays light.

What counts as an import. A module imports a module at *import time* with a statement outside
any function (at the top, or under an `if`/`try`/`class` there), and *lazily* with one inside a
function, which runs only when the function does. `import a.b.c` and `from a.b import c`
import the packages a and a.b too (their __init__ runs), except the importer's own packages,
which are already loaded by the time it runs. `from a.b import c` is an import of a.b.c when
that is a module, else of a.b.
"""

import ast
import collections
from pathlib import Path

import pytest

from vitlab import experiments

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"vitlab": ROOT / "vitlab", "vitlab.tui": ROOT / "tui"}  # package -> its folder (pyproject package-dir)
HEAVY = ("tensorflow", "keras", "jax")


def _module_files():
    """{dotted name: file} of every module of vitlab and of the TUI."""
    found = {}
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


MODULES = _module_files()

Import = collections.namedtuple("Import", "target lazy line")


def imports_of(name, path):
    """Every module `name` (the file `path`) imports, as Import(target, lazy, line)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def visit(node, lazy):
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend(Import(alias.name, lazy, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: from . import x, from ..a import y
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    found.append(Import(full if full in MODULES else base, lazy, child.lineno))
            visit(child, inner)

    visit(ast.parse(path.read_text()), False)
    return found


def _graph():
    """{importer: {imported: Import}} among our modules, with the packages each import loads;
    an edge is lazy only when every import along it is."""
    graph = collections.defaultdict(dict)
    for name, path in MODULES.items():
        for found in imports_of(name, path):
            parts = found.target.split(".")
            for end in range(1, len(parts) + 1):
                target = ".".join(parts[:end])
                if target not in MODULES or target == name or name.startswith(target + "."):
                    continue
                known = graph[name].get(target)
                if known is None or (known.lazy and not found.lazy):
                    graph[name][target] = found._replace(target=target)
    return graph


GRAPH = _graph()


def _circles(graph, include_lazy):
    """The strongly connected groups of more than one module (Tarjan), each as a path that
    closes on itself: [a, b, ..., a]."""
    nodes = sorted({*graph, *(t for targets in graph.values() for t in targets)})
    edges = {name: [t for t, found in graph.get(name, {}).items() if include_lazy or not found.lazy] for name in nodes}
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                groups.append(set(group))

    for name in nodes:
        if name not in index:
            connect(name)
    return [_cycle_in(group, edges) for group in groups]


def _cycle_in(group, edges):
    start = min(group)
    path, seen = [start], {start}
    while True:  # walk inside the group until a module repeats
        nxt = next(t for t in edges[path[-1]] if t in group)
        if nxt in seen:
            return path[path.index(nxt) :] + [nxt]
        path.append(nxt)
        seen.add(nxt)


def test_circles_are_found_and_told_apart():
    """The detector on a planted graph: a -> b at import time, b -> a lazily, c -> d -> c at import time."""
    graph = {
        "a": {"b": Import("b", False, 1)},
        "b": {"a": Import("a", True, 2)},
        "c": {"d": Import("d", False, 3)},
        "d": {"c": Import("c", False, 4), "a": Import("a", False, 5)},
    }
    assert _circles(graph, include_lazy=False) == [["c", "d", "c"]]
    assert sorted(_circles(graph, include_lazy=True)) == [["a", "b", "a"], ["c", "d", "c"]]


def _describe(cycle):
    steps = []
    for here, there in zip(cycle, cycle[1:]):
        found = GRAPH[here][there]
        steps.append(
            f"{here} -> {there} ({MODULES[here].relative_to(ROOT)}:{found.line}{', lazy' if found.lazy else ''})"
        )
    return "\n  ".join(steps)


def test_the_import_graph_is_read():
    """The rules below are only as good as the graph: it holds the edges we know of."""
    assert len(MODULES) > 100 and "vitlab.tui.app" in MODULES and "vitlab.zoo" in MODULES
    assert not GRAPH["vitlab.zoo.build"]["vitlab.zoo.pack"].lazy
    assert GRAPH["vitlab.results.result"]["vitlab.report.plots"].lazy
    assert "vitlab.report" in GRAPH["vitlab.results.result"]  # the package's __init__ runs too
    assert "vitlab.results" not in GRAPH["vitlab.results.store"]  # its own package: already loaded


def test_no_circle_of_import_time_imports():
    """A circle of import-time imports makes the import order matter: one of its modules runs
    while another is half-initialised (a name missing now, or after a refactor)."""
    circles = _circles(GRAPH, include_lazy=False)
    assert not circles, "import-time circles:\n  " + "\n\n  ".join(map(_describe, circles))


def test_no_circle_even_through_lazy_imports():
    """A lazy import that closes a circle works, but hides which module is the core: results
    drawing through report while report reads results, zoo building through its packing while
    packing reads the build. Break it by moving the shared part into a module both import."""
    circles = _circles(GRAPH, include_lazy=True)
    assert not circles, "circles:\n  " + "\n\n  ".join(map(_describe, circles))


def _import_time_closure(start):
    """Every module (ours and third-party top-level names) loaded by importing `start`."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name not in MODULES:
            continue
        for found in imports_of(name, MODULES[name]):
            if not found.lazy:
                parts = found.target.split(".")
                todo += [".".join(parts[:end]) for end in range(1, len(parts) + 1)]
    return seen


@pytest.mark.parametrize("name", [n for n in MODULES if n.startswith("vitlab.tui")])
def test_the_tui_never_imports_tensorflow_keras_or_jax(name):
    """Neither the TUI's own imports (import-time or lazy) nor what those load at import time
    name TensorFlow, Keras or JAX: the dashboard starts in a blink and never pays for them."""
    direct = [found for found in imports_of(name, MODULES[name]) if found.target.split(".")[0] in HEAVY]
    assert not direct, [f"{MODULES[name].relative_to(ROOT)}:{f.line} imports {f.target}" for f in direct]
    for found in imports_of(name, MODULES[name]):
        heavy = sorted(m for m in _import_time_closure(found.target) if m.split(".")[0] in HEAVY)
        assert not heavy, f"{MODULES[name].relative_to(ROOT)}:{found.line} imports {found.target}, which loads {heavy}"


def imported_modules(path, top_level=False):
    """Absolute module names a file imports (`from a.b import c` gives a.b and a.b.c);
    top_level: only at import time, not inside functions."""
    tree = ast.parse(Path(path).read_text())
    names = set()
    for node in tree.body if top_level else ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def module_file(name):
    return MODULES[name]


@pytest.mark.parametrize("name", experiments.names())
def test_an_experiment_imports_no_other_experiment_nor_the_runner(name):
    own = experiments.REGISTRY[name]
    others = {module for key, module in experiments.REGISTRY.items() if key != name}
    found = imported_modules(module_file(own))
    assert not found & others, f"{own} imports {sorted(found & others)}"
    assert "vitlab.experiments.runner" not in found


def test_the_data_side_never_imports_data_prep():
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "vitlab" / "data").glob("*.py"))
        if any(m.startswith("vitlab.data_prep") for m in imported_modules(path))
    ]
    assert not offenders, offenders


def test_model_spec_grammar_and_experiment_declarations_import_nothing_heavy():
    heavy = ("keras", "tensorflow", "jax", "numpy")
    for path in (
        ROOT / "vitlab" / "model_spec.py",
        ROOT / "vitlab" / "experiments" / "__init__.py",
        ROOT / "vitlab" / "experiments" / "base.py",
    ):
        found = imported_modules(path, top_level=True)
        assert not [m for m in found if m.split(".")[0] in heavy], (path.name, sorted(found))
