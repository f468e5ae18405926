"""The architecture as import rules, checked on the source (no imports, so it is instant):
experiments never import each other or the runner; the data side never imports the
dataset makers in data_prep (they import it); the model-spec grammar stays light."""

import ast
from pathlib import Path

import pytest

from vitlab import experiments

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path, top_level=False):
    """Absolute module names a file imports (`from a.b import c` gives a.b and a.b.c);
    top_level: only at import time, not inside functions."""
    tree = ast.parse(Path(path).read_text())
    names = set()
    for node in (tree.body if top_level else ast.walk(tree)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def module_file(name):
    return ROOT / (name.replace("vitlab.", "vitlab/", 1).replace(".", "/") + ".py")


@pytest.mark.parametrize("name", experiments.names())
def test_an_experiment_imports_no_other_experiment_nor_the_runner(name):
    own = experiments.REGISTRY[name]
    others = {module for key, module in experiments.REGISTRY.items() if key != name}
    found = imported_modules(module_file(own))
    assert not found & others, f"{own} imports {sorted(found & others)}"
    assert "vitlab.experiments.runner" not in found


def test_the_data_side_never_imports_data_prep():
    offenders = [str(path.relative_to(ROOT)) for path in sorted((ROOT / "vitlab" / "data").glob("*.py"))
                 if any(m.startswith("vitlab.data_prep") for m in imported_modules(path))]
    assert not offenders, offenders


def test_model_spec_grammar_and_experiment_declarations_import_nothing_heavy():
    heavy = ("keras", "tensorflow", "jax", "numpy")
    for path in (ROOT / "vitlab" / "model_spec.py", ROOT / "vitlab" / "experiments" / "__init__.py",
                 ROOT / "vitlab" / "experiments" / "base.py"):
        found = imported_modules(path, top_level=True)
        assert not [m for m in found if m.split(".")[0] in heavy], (path.name, sorted(found))
