"""docs/tour.md never goes stale: its Python blocks run in order in one namespace, each
output block shown after one matches what it prints, and its pictures exist."""
import contextlib
import io
import os
import re
from pathlib import Path

TOUR = Path(__file__).resolve().parents[2] / "docs" / "tour.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\n", re.DOTALL | re.MULTILINE)


def blocks(text):
    """[(language, code, expected output or None)]: a ```text block right after a
    ```python block is what that block prints."""
    found = [(m.group(1), m.group(2), m.start(), m.end()) for m in BLOCK.finditer(text)]
    result = []
    for k, (lang, code, _, end) in enumerate(found):
        if lang != "python":
            continue
        expected = None
        if k + 1 < len(found) and found[k + 1][0] == "text" \
                and not text[end:found[k + 1][2]].strip():
            expected = found[k + 1][1]
        result.append((code, expected))
    return result


def run_blocks(code_blocks, workdir):
    namespace = {"__name__": "tour"}
    outputs = []
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        for n, code in enumerate(code_blocks):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, f"{TOUR.name}, block {n + 1}", "exec"), namespace)  # noqa: S102
            outputs.append(buffer.getvalue())
    finally:
        os.chdir(previous)
    return outputs


def test_every_python_block_runs_and_prints_what_the_tour_shows(tmp_path):
    found = blocks(TOUR.read_text(encoding="utf-8"))
    assert len(found) >= 10
    outputs = run_blocks([code for code, _ in found], tmp_path)
    for n, ((code, expected), printed) in enumerate(zip(found, outputs), start=1):
        if expected is not None:
            assert printed.rstrip() == expected.rstrip(), \
                f"block {n} printed:\n{printed}\nbut the tour shows:\n{expected}\ncode:\n{code}"


def test_the_pictures_exist():
    names = re.findall(r"!\[[^\]]*\]\((images/[^)]+)\)", TOUR.read_text(encoding="utf-8"))
    assert len(names) >= 4
    for name in names:
        path = TOUR.parent / name
        assert path.is_file() and path.stat().st_size > 5000, \
            f"{name} is missing: run scripts/make_tour_images.py"
