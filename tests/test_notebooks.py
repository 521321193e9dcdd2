"""The notebooks as a course: structure, lecture metadata, and a reliability run.

Strict output comparison against the saved notebooks is nbval's job (`pytest --nbval`, in
`make test`); the repository's root conftest.py adds to that one run, in the same kernel, what
nbval alone cannot see: the network blocked, a second "Run All" with the same outputs, and no
matplotlib figure left open. No test here executes a notebook again.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COURSE = [p for p in NOTEBOOKS if not p.name.startswith("00_")]
IDS = [p.stem for p in NOTEBOOKS]


def _load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_saved_executed_in_order_without_errors(path):
    cells = _code_cells(_load(path))
    counts = [c.execution_count for c in cells]
    assert None not in counts, f"{path.name}: cells saved unexecuted; run `make notebooks`"
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: not executed top to bottom"
    errors = [c for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: {len(errors)} cells saved with an error output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_runs_on_the_course_kernel(path):
    nb = _load(path)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.language_info.name == "python"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_markdown_renders_code_fences_and_folded_solutions(path):
    """Rendered as nbconvert renders it, no fence is left as text and every <details> closes.

    An indented ```` ``` ```` (4 spaces) is a code block holding the fence's text, and it
    swallows the lines after it, the closing ``</details>`` included.
    """
    import mistune

    render = mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])
    for index, cell in enumerate(_load(path).cells):
        if cell.cell_type != "markdown":
            continue
        html = render(cell.source)
        where = f"{path.name} cell {index}"
        assert "```" not in html, f"{where}: a code fence is shown as text (indented?)"
        assert "&lt;/details&gt;" not in html, f"{where}: </details> ended up inside code"
        assert cell.source.count("<details>") == cell.source.count("</details>"), where


@pytest.mark.parametrize("path", COURSE, ids=[p.stem for p in COURSE])
def test_opens_with_goals_and_closes_with_summary_and_exercises(path):
    nb = _load(path)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    head = "\n".join(markdown[:2]).lower()
    assert "what you will learn" in head, f"{path.name}: no 'What you will learn' at the top"
    text = "\n".join(markdown).lower()
    assert "summary" in text, f"{path.name}: no summary"
    assert "exercise" in text, f"{path.name}: no exercises"
    assert "<details>" in text, f"{path.name}: no folded solution"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert re.search(r"\bcheck_\w+\(", code), f"{path.name}: no exercise checker is called"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_cell_has_slide_metadata(path):
    nb = _load(path)
    allowed = {"slide", "subslide", "fragment", "-", "skip", "notes"}
    missing = [
        i
        for i, c in enumerate(nb.cells)
        if c.metadata.get("slideshow", {}).get("slide_type") not in allowed
    ]
    assert not missing, f"{path.name}: cells {missing} have no slideshow.slide_type"
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "slide"


def _probe_notebook(path: Path) -> None:
    """Six cells whose saved outputs are those of one run: a network call, a counter that
    counts on a second Run All, a figure left open (on Agg: the inline backend does not close
    it), two lines saved as two stream chunks (nbval merges them), a view left showing an
    error (not displayed, so no saved output tells), and a traceback on stderr in a cell whose
    output nbval does not compare."""
    cells = [
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9))\n"
        "except OSError as e:\n    print('blocked' if 'blocked' in str(e) else 'not blocked')",
        "runs = globals().get('runs', 0) + 1\nprint(runs)",
        "import matplotlib.pyplot as plt\nplt.switch_backend('agg')\nfig = plt.figure()",
        "print('a')\nprint('b')",
        "from cnnlib.widgets import DimensionsExplorer\nview = DimensionsExplorer()\n"
        "view.set_controls(size=1, padding=0, kernel_size=3)  # the kernel does not fit",
        "# NBVAL_IGNORE_OUTPUT\nimport sys\nprint('Traceback (most recent call last):', "
        "file=sys.stderr)",
    ]
    saved = [["blocked\n"], ["1\n"], [], ["a\n", "b\n"], [], []]
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for n, (source, text) in enumerate(zip(cells, saved, strict=True), start=1):
        cell = nbformat.v4.new_code_cell(source, execution_count=n)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in text]
        nb.cells.append(cell)
    nbformat.write(nb, path)


def test_strict_nbval_also_runs_offline_twice_and_closes_its_figures(tmp_path):
    """The root conftest.py adds to each notebook's strict nbval run, in its kernel, what nbval
    alone cannot see: the network blocked, a second Run All compared with the saved outputs, no
    figure left open, no view showing an error, the time budget and stderr of the cells nbval
    does not compare (so no notebook is executed again for these)."""
    import os
    import subprocess
    import sys

    notebook = tmp_path / "probe.ipynb"
    _probe_notebook(notebook)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q", "-rA"]
        + ["--nbval", "--nbval-current-env", "--rootdir", str(tmp_path), str(notebook)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outcomes = dict(
        reversed(line.split(" ", 1))
        for line in result.stdout.splitlines()
        if line.startswith(("PASSED ", "FAILED "))
    )
    outcomes = {
        name.split("::", 1)[1].split(" - ")[0]: verdict for name, verdict in outcomes.items()
    }
    assert outcomes == {
        "offline": "PASSED",
        "Cell 0": "PASSED",  # the network is blocked during the first run
        "Cell 1": "PASSED",
        "Cell 2": "PASSED",
        "Cell 3": "PASSED",
        "Cell 4": "PASSED",
        "Cell 5": "PASSED",  # its output is not compared
        "no figure open after Run All": "FAILED",
        "no view shows an error after Run All": "FAILED",
        "Run All in its time budget": "FAILED",  # in 120 s, but a traceback on stderr
        "Cell 0 again": "PASSED",
        "Cell 1 again": "FAILED",  # prints 2: a second Run All shows something else
        "Cell 2 again": "PASSED",
        "Cell 3 again": "PASSED",
        "Cell 4 again": "PASSED",
        "Cell 5 again": "PASSED",
        "no figure open after a second Run All": "FAILED",
        "no view shows an error after a second Run All": "FAILED",
    }, result.stdout[-3000:]
    assert "Cell 5: Traceback (most recent call last):" in result.stdout, result.stdout[-3000:]


def _links(source: str) -> list[str]:
    """Relative links to notebooks (the Colab badge's https:// link is checked in test_hosting)."""
    return re.findall(r"\]\((?![a-z]+://)([^)\s]+\.ipynb)\)", source)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_links_between_notebooks_resolve(path):
    nb = _load(path)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for target in _links(cell.source):
                assert (path.parent / target).is_file(), f"{path.name}: broken link {target}"


def test_each_lesson_links_to_its_neighbours_at_top_and_bottom():
    from cnnlib.course import LESSONS

    files = ["00_index.ipynb"] + [lesson.file for lesson in LESSONS]
    for i, lesson in enumerate(LESSONS, start=1):
        nb = _load(ROOT / "notebooks" / lesson.file)
        top, bottom = _links(nb.cells[0].source), _links(nb.cells[-1].source)
        assert files[i - 1] in top, f"{lesson.file}: no link back to {files[i - 1]} at the top"
        if i + 1 < len(files):
            assert files[i + 1] in top, f"{lesson.file}: no link to {files[i + 1]} at the top"
            assert files[i + 1] in bottom, f"{lesson.file}: no link to {files[i + 1]} at the end"
        assert "00_index.ipynb" in bottom, f"{lesson.file}: no link to the index at the end"
        assert nb.cells[0].source.count("> **What you will learn") == 1, lesson.file
