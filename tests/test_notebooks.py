"""The notebooks as a course: structure, lecture metadata, and a reliability run.

The reliability run executes every notebook's cells twice in one kernel ("Run All" after
"Run All") with network connections blocked, and checks that the second run shows the same
outputs as the first and that no matplotlib figure is left open. Strict output comparison
against the saved notebooks is nbval's job (`pytest --nbval`, in `make test`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COURSE = [p for p in NOTEBOOKS if not p.name.startswith("00_")]
IDS = [p.stem for p in NOTEBOOKS]

BLOCK_NETWORK = """\
import socket as _socket

def _no_network(*args, **kwargs):
    raise OSError("network access is blocked while the course notebooks are tested")

_socket.socket.connect = _no_network
_socket.socket.connect_ex = _no_network
_socket.create_connection = _no_network
"""

OPEN_FIGURES = "import matplotlib.pyplot as _plt; print(len(_plt.get_fignums()))"

COMPARED_MIME = ("text/plain", "text/html", "text/latex", "text/markdown")


def _load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def _comparable(cell) -> list:
    """The outputs of a cell as nbval compares them (text, not images or widget ids)."""
    out = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            # consecutive chunks of one stream may be split differently from run to run
            if out and isinstance(out[-1], tuple) and out[-1][0] == o.name:
                out[-1] = (o.name, out[-1][1] + o.text)
            else:
                out.append((o.name, o.text))
        elif o.output_type in ("execute_result", "display_data"):
            out.append({k: v for k, v in o.data.items() if k in COMPARED_MIME})
        elif o.output_type == "error":
            out.append(("error", o.ename, o.evalue))
    return out


def _ignored(cell) -> bool:
    return "nbval-ignore-output" in cell.metadata.get("tags", [])


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_runs_twice_offline_with_the_same_outputs(path, tmp_path):
    """What strict nbval (one fresh run against the saved outputs) cannot see: the notebook
    runs with the network blocked, running it again in the same kernel (a learner's second Run
    All) gives the same outputs, and it leaves no matplotlib figure open."""
    nb = _load(path)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    block = nbformat.v4.new_code_cell(BLOCK_NETWORK)
    probe = nbformat.v4.new_code_cell(OPEN_FIGURES)
    first = [nbformat.v4.new_code_cell(c.source, metadata=c.metadata) for c in cells]
    second = [nbformat.v4.new_code_cell(c.source, metadata=c.metadata) for c in cells]
    probe2 = nbformat.v4.new_code_cell(OPEN_FIGURES)
    run = nbformat.v4.new_notebook(
        cells=[block, *first, probe, *second, probe2], metadata=nb.metadata
    )
    client = NotebookClient(
        run, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()

    for a, b in zip(first, second, strict=True):
        errors = [o for o in a.outputs + b.outputs if o.output_type == "error"]
        assert not errors, f"{path.name}: cell failed offline or on re-run:\n{a.source[:300]}"
        if not _ignored(a):
            assert _comparable(a) == _comparable(b), (
                f"{path.name}: re-running this cell changes its output:\n{a.source[:300]}"
            )
    open_after = [json.loads(p.outputs[0].text) for p in (probe, probe2)]
    assert open_after == [0, 0], f"{path.name}: matplotlib figures left open: {open_after}"


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
