"""Every exercise of notebooks 01-09 has a folded solution, and every checked one passes.

The notebooks fold each solution in a ``<details>`` block after the exercise. Two things are
checked here, from the notebooks' own text:

- every exercise heading ("### Exercise N", "**Exercise N.**", "**N.**") in a notebook's
  Exercises section is followed by a ``<details>`` block before the next exercise;
- for every exercise cell that calls a checker (``check_x(...)``), the Python code in the
  folded solution after it, run in place of the learner's stub, makes every checker call of
  that cell pass. A checker that rejected its own worked solution, or a solution that no
  longer matched the checker (a renamed function, a changed signature), fails here.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb"))

EXERCISE = re.compile(r"^(?:### Exercise \d+|\*\*Exercise \d+[^*]*\*\*|\*\*\d+\.\*\*)", re.M)
FOLDED = re.compile(r"<details>.*?</details>", re.S)
PYTHON = re.compile(r"```python\n(.*?)```", re.S)


def _section(path: Path) -> list[dict]:
    """The cells of the notebook's "## Exercises" section (up to the next "## " heading)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    starts = [
        i
        for i, cell in enumerate(cells)
        if cell["cell_type"] == "markdown"
        and re.search(r"^## Exercises", "".join(cell["source"]), re.M)
    ]
    assert starts, f"{path.name}: no '## Exercises' section"
    start = starts[0]
    section = []
    for cell in cells[start:]:
        text = "".join(cell["source"])
        if section and cell["cell_type"] == "markdown" and re.match(r"## (?!#)", text):
            break
        section.append({"type": cell["cell_type"], "text": text})
    return section


def _imports(path: Path) -> str:
    """The import statements of the set-up cell (the first code cell after colab's) and of
    the Exercises section's code cells (the checkers)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    setup = next(c for c in code if "google.colab" not in c)
    sources = [setup] + [c["text"] for c in _section(path) if c["type"] == "code"]
    return "\n".join(
        ast.unparse(node)
        for source in sources
        for node in ast.parse(source).body
        if isinstance(node, (ast.Import, ast.ImportFrom))
    )


def _is_check(node: ast.stmt) -> bool:
    value = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id.startswith("check_")
    )


def _checked_exercises(path: Path) -> list[tuple[str, str]]:
    """``(exercise cell, its folded solution's code)`` for each cell that calls a checker."""
    section = _section(path)
    found = []
    for i, cell in enumerate(section):
        if cell["type"] != "code" or not any(_is_check(n) for n in ast.parse(cell["text"]).body):
            continue
        solution = ""
        for after in section[i + 1 :]:
            if after["type"] == "code":
                break
            folded = FOLDED.findall(after["text"])
            if folded:
                solution = "\n".join(PYTHON.findall(folded[0]))
                break
        found.append((cell["text"], solution))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_exercise_has_a_folded_solution(path):
    text = "\n".join(c["text"] for c in _section(path))
    starts = [m.start() for m in EXERCISE.finditer(text)]
    assert starts, f"{path.name}: no exercise headings found"
    missing = [
        text[a : text.find("\n", a)]
        for a, b in zip(starts, starts[1:] + [len(text)], strict=True)
        if "<details>" not in text[a:b]
    ]
    assert not missing, f"{path.name}: exercises without a folded solution: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_folded_solution_passes_its_checker(path):
    exercises = _checked_exercises(path)
    assert exercises, f"{path.name}: no exercise cell calls a checker"
    ns: dict = {}  # one namespace, in the notebook's order: a solution may use an earlier one
    exec(_imports(path), ns)
    for cell, solution in exercises:
        assert solution, f"{path.name}: no folded Python solution after\n{cell}"
        tree = ast.parse(cell)
        stub = ast.Module([n for n in tree.body if not _is_check(n)], type_ignores=[])
        checks = [n.value for n in tree.body if _is_check(n)]
        with contextlib.redirect_stdout(io.StringIO()) as out:
            exec(compile(stub, path.name, "exec"), ns)  # the learner's stub and the data
            exec(solution, ns)  # replaced by the worked solution
            results = [eval(compile(ast.Expression(c), path.name, "eval"), ns) for c in checks]
        assert all(results), (
            f"{path.name}: the folded solution fails its checker:\n{solution}\n{out.getvalue()}"
        )
        assert "✅" in out.getvalue() or "passed" in out.getvalue().lower(), out.getvalue()
