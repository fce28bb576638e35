"""The layers of docs/architecture.md, checked on the source: every `import` under
src/chainrule is parsed (ast, nothing is imported), and an import that goes up the
layers fails, as does a cycle among the core's modules or an import the core hides
inside a function or at the bottom of a file."""
from __future__ import annotations

import ast
import pathlib

import pytest

SOURCE = pathlib.Path(__file__).resolve().parents[1] / "src" / "chainrule"

# Lowest first; a module may import its own layer and the ones below it.
LAYERS = [
    ("backend", "backends", "device", "cuda", "accelerator", "dtypes", "printing",
     "runtime", "amp", "shapes", "flags", "jit", "version"),
    ("kernels",),
    ("tensor", "predicates", "versions"),
    ("sparse",),
    ("autograd",),
    ("ops", "creation", "random"),
    ("diagnostics", "profiler"),  # anomaly mode, gradcheck, the profiler: tools on the engine
    ("composites", "functional", "linalg", "special", "testing"),  # PyTorch's, from the ops
    ("distributed",),          # process groups: only tensors (nn.parallel builds on them)
    ("nn", "distributions", "func"),  # distributions: torch.distributions; func: torch.func
    ("optim",),
    ("data", "utils", "multiprocessing"),  # utils.data: the data layer at PyTorch's import path
    ("io", "serialize", "serialization"),
    ("train",),
    ("explain",),
    ("cli", "main", "bench", "compat", "__init__"),
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}
CORE = ("backend", "device", "kernels", "tensor", "sparse", "autograd", "ops")


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path):
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    return _imports_in(path.read_text(), package)


def _imports_in(text: str, package: str):
    """(target module, line, at module top?) for every chainrule import in a module of
    `package`; `from . import x` names the module x."""
    tree = ast.parse(text)
    top = set()
    for node in tree.body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                break
            continue
        top.add(id(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for target in targets:
            if target == "chainrule" or target.startswith("chainrule."):
                yield target, node.lineno, id(node) in top


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


FILES = sorted(SOURCE.rglob("*.py"))


def test_every_part_of_the_package_has_a_layer():
    parts = {_layer(_module_name(p)) for p in FILES}
    assert parts - set(RANK) == set(), "add these to LAYERS here and in docs/architecture.md"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_no_import_goes_up_a_layer(path):
    here = _layer(_module_name(path))
    if here not in RANK:
        pytest.skip(f"{here} has no layer yet (see test_every_part_of_the_package_has_a_layer)")
    upward = [f"line {line}: {target} ({_layer(target)} is above {here})"
              for target, line, _ in _imports(path)
              if _layer(target) in RANK and RANK[_layer(target)] > RANK[here]]
    assert upward == []


def test_the_core_imports_at_the_top_of_its_files():
    hidden = [f"{path.relative_to(SOURCE)}:{line} imports {target}"
              for path in FILES if _layer(_module_name(path)) in CORE
              for target, line, at_top in _imports(path) if not at_top]
    assert hidden == []


def test_the_core_has_no_import_cycle():
    graph = {}
    for path in FILES:
        name = _module_name(path)
        if _layer(name) in CORE:
            graph[name] = {t for t, _, _ in _imports(path) if _layer(t) in CORE}
    known = set(graph)
    for name in graph:  # `from .x import y` names y; the module is x
        graph[name] = {t if t in known else t.rsplit(".", 1)[0] for t in graph[name]}
    done, path = set(), []

    def visit(name):
        if name in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(name):] + [name]))
        if name in done or name not in graph:
            return
        path.append(name)
        for target in sorted(graph[name]):
            visit(target)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def test_the_checker_sees_upward_hidden_and_relative_imports():
    text = "from ..nn import Module\nfrom . import shape\n\ndef f():\n    from ..tensor import T\n"
    found = list(_imports_in(text, "chainrule.ops"))
    assert found == [("chainrule.nn", 1, True), ("chainrule.ops.shape", 2, True),
                     ("chainrule.tensor", 5, False)]
    assert RANK[_layer("chainrule.nn")] > RANK[_layer("chainrule.ops.x")]
