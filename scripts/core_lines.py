"""Code lines of the core (tensor.py, autograd/, ops/): blank lines, comments and docstrings
not counted. The budget (docs/architecture.md) is 2,500.

    python scripts/core_lines.py          # one line per file, then the total
"""
from __future__ import annotations

import ast
import io
import pathlib
import sys
import tokenize

CORE = ("tensor.py", "autograd", "ops")
BUDGET = 2500


def code_lines(path: pathlib.Path) -> int:
    """Lines holding a token other than a comment, a docstring or a line break."""
    text = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines = set()
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER)
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in skip:
            lines.update(n for n in range(token.start[0], token.end[0] + 1) if n not in docstrings)
    return len(lines)


def main() -> int:
    root = pathlib.Path(__file__).resolve().parents[1] / "src" / "chainrule"
    files = [root / "tensor.py"] + sorted((root / "autograd").rglob("*.py")) \
        + sorted((root / "ops").rglob("*.py"))
    total = 0
    for path in files:
        count = code_lines(path)
        total += count
        print(f"{count:6d}  {path.relative_to(root)}")
    print(f"{total:6d}  total (budget {BUDGET})")
    return 0 if total <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
