"""Hooks, not patches: no module of chainrule assigns to an attribute of another chainrule
module or class it imported (as `Op.apply = ...`, `engine._backward_of = ...` or
`functions.argextreme = ...` once did). Watching or changing what ops and the engine do
goes through the hooks in chainrule.autograd.hooks. The one exception is where the package
installs Tensor's methods (its __init__)."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1] / "src" / "chainrule"
INSTALLS = {"__init__.py"}  # Tensor's methods are installed here, once, at import


def chainrule_names(tree: ast.Module) -> set:
    """The names a file binds to chainrule's own modules and classes (relative imports or
    `chainrule...`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or
                                                 (node.module or "").startswith("chainrule")):
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names
                      if alias.name.startswith("chainrule")}
    return names


def patches(path: pathlib.Path, root: pathlib.Path = ROOT) -> list:
    """`name.attr = ...` and `setattr(name, ...)` on a chainrule name the file imported."""
    tree = ast.parse(path.read_text())
    names, found = chainrule_names(tree), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr" \
                and node.args:
            targets = [ast.Attribute(value=node.args[0], attr="?")]
        else:
            continue
        found += [f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)[:80]}"
                  for t in targets if isinstance(t, ast.Attribute)
                  and isinstance(t.value, ast.Name) and t.value.id in names]
    return found


def test_no_module_patches_what_it_imported():
    files = [p for p in sorted(ROOT.rglob("*.py")) if str(p.relative_to(ROOT)) not in INSTALLS]
    found = [line for path in files for line in patches(path)]
    assert not found, "use a hook instead of reassigning:\n" + "\n".join(found)


def test_the_check_sees_a_patch(tmp_path):
    """The check finds the patch the ONNX exporter used to make, and a setattr."""
    sample = tmp_path / "sample.py"
    sample.write_text("from ...ops import functions as op_functions\n"
                      "from ..autograd.op import Op\n"
                      "op_functions.argextreme = None\n"
                      "setattr(Op, 'apply', None)\n"
                      "import sys\nsys.argv = []\n")
    assert [line.split(":")[1] for line in patches(sample, tmp_path)] == ["3", "4"]
