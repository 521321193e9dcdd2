"""The course's table of contents (cnnlib.course) against the files in notebooks/."""

import re
from pathlib import Path

import pytest

from cnnlib import course

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_every_listed_notebook_exists():
    missing = [item.file for item in course.LESSONS if not (NOTEBOOKS / item.file).exists()]
    assert not missing, f"listed in cnnlib.course but not in notebooks/: {missing}"


def test_every_notebook_is_listed():
    on_disk = {p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")} - {"00_index.ipynb"}
    listed = {item.file for item in course.LESSONS}
    assert on_disk <= listed, f"in notebooks/ but not in cnnlib.course: {on_disk - listed}"


def test_numbers_match_file_names_and_run_in_order():
    assert [item.number for item in course.LESSONS] == list(range(1, len(course.LESSONS) + 1))
    for item in course.LESSONS:
        assert re.fullmatch(rf"{item.number:02d}_[a-z_]+\.ipynb", item.file), item.file


def test_prerequisites_come_earlier():
    for a, b in course.edges():
        assert a < b, f"notebook {b:02d} requires {a:02d}, which comes later"
    # every notebook but the first builds on something, and everything leads from 01
    assert all(item.requires for item in course.LESSONS[1:])
    reached = {1}
    for item in course.LESSONS[1:]:
        assert set(item.requires) <= reached
        reached.add(item.number)


def test_depth_is_the_longest_chain():
    # hand-worked from the table: 01 -> 02 -> {03, 04, 05, 06} -> 07 -> 08 -> 09
    assert [course.depth(n) for n in range(1, 10)] == [0, 1, 2, 2, 2, 2, 3, 4, 5]


def test_lesson_checks_its_argument():
    assert course.lesson(6).file == "06_backprop.ipynb"
    with pytest.raises(ValueError, match="number"):
        course.lesson(0)
    with pytest.raises(ValueError, match="at most 9"):
        course.lesson(10)
    with pytest.raises(TypeError, match="number"):
        course.lesson("3")


def test_table_markdown_links_every_notebook():
    table = course.table_markdown()
    links = re.findall(r"\]\(([^)]+)\)", table)
    assert links == [item.file for item in course.LESSONS]
    assert "a little calculus" in table.splitlines()[2 + 5]  # the row of 06


def test_all_requirements_follow_the_chain():
    # hand-worked: 07 needs 03, 04, 06; each of those needs 02, which needs 01
    assert course.all_requirements(7) == [1, 2, 3, 4, 6]
    assert course.all_requirements(5) == [1, 2]
    assert course.all_requirements(1) == []
    assert course.all_requirements(8) == [1, 2, 3, 4, 6, 7]


def test_index_notebook_shows_the_table_of_contents():
    import nbformat

    nb = nbformat.read(NOTEBOOKS / "00_index.ipynb", as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert any(course.table_markdown() in s for s in sources), "regenerate 00_index's table"


def _nav_cells(item) -> list[dict]:
    import json

    nb = json.loads((NOTEBOOKS / item.file).read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if course.NAV_TAG in c.get("metadata", {}).get("tags", [])]


@pytest.mark.parametrize("item", course.LESSONS, ids=lambda i: i.file)
def test_each_notebook_opens_and_closes_with_its_navigation_links(item):
    cells = _nav_cells(item)
    assert len(cells) == 2, f"{item.file}: tag the first cell and the last cell {course.NAV_TAG!r}"
    top, bottom = ("".join(c["source"]) for c in cells)
    fix = "run `python -m cnnlib.course` to rewrite the navigation lines"
    assert top.split("\n")[0] == course.nav_markdown(item.number, "top"), fix
    assert bottom == course.nav_markdown(item.number, "bottom"), fix


def test_navigation_lines_link_the_neighbours_as_plain_markdown():
    # by hand: 02's top line links 01, the index and 03; the last notebook links no "next"
    assert course.nav_markdown(2, "top") == (
        "← [01 · Convolution and pooling](01_convolution.ipynb) | [Course index](00_index.ipynb)"
        " | [03 · Parameters and compute](03_parameters.ipynb) →"
    )
    assert course.nav_markdown(1, "top").startswith("← [Course index](00_index.ipynb) | [02 · ")
    last = len(course.LESSONS)
    assert course.nav_markdown(last, "bottom").startswith("**End of the course.**")
    assert "→" not in course.nav_markdown(last, "top")
    for item in course.LESSONS:
        for where in ("top", "bottom"):
            line = course.nav_markdown(item.number, where)
            # CommonMark: a line starting with "<" may open a raw HTML block (links not parsed)
            assert not line.lstrip().startswith("<"), line
            assert re.findall(r"\[[^\]]+\]\((\d\d_[a-z_]+\.ipynb)\)", line)
    with pytest.raises(ValueError, match="where"):
        course.nav_markdown(1, "middle")


def test_write_nav_leaves_a_correct_notebook_unchanged(tmp_path):
    import shutil

    copy = tmp_path / course.LESSONS[0].file
    shutil.copy(NOTEBOOKS / course.LESSONS[0].file, copy)
    assert course.write_nav(copy) is False
    text = copy.read_text(encoding="utf-8").replace("| [02 · ", "| [99 · ", 1)
    copy.write_text(text, encoding="utf-8")
    assert course.write_nav(copy) is True
    assert copy.read_text(encoding="utf-8") == (NOTEBOOKS / course.LESSONS[0].file).read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize("item", course.LESSONS, ids=lambda i: i.file)
def test_navigation_links_render_as_links_in_commonmark(item):
    # nbconvert's Markdown renderer (what nbviewer shows): a line opening with an HTML
    # comment stays raw HTML, its links plain text
    import mistune

    render = mistune.create_markdown(escape=False)
    for cell in _nav_cells(item):
        source = "".join(cell["source"])
        targets = re.findall(r"\]\(([^)]+)\)", source.split("\n")[0])
        html = render(source)
        assert targets and all(f'<a href="{t}">' in html for t in targets), html[:300]
    assert '<a href="' not in render("<!-- nav --> [index](00_index.ipynb)")  # the old form


# -- the registry's record of the code behind each notebook ----------------------------------------
def _code(item) -> str:
    import nbformat

    nb = nbformat.read(NOTEBOOKS / item.file, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("item", course.LESSONS, ids=lambda item: item.file)
def test_registry_records_the_notebooks_modules_views_and_checkers(item):
    """What LESSONS says a notebook uses is what its code cells import and build."""
    from cnnlib.widgets import VIEWS

    code = _code(item)
    imported = set(re.findall(r"from cnnlib\.(\w+) import", code))
    imported |= {
        m
        for names in re.findall(r"from cnnlib import ([\w, ]+)", code)
        for m in re.split(r"[\s,]+", names)
        if m
    }
    imported |= set(re.findall(r"cnnlib\.(\w+)\.", code))
    assert item.modules and set(item.modules) <= imported, (item.modules, imported)
    built = {name for name in VIEWS if re.search(rf"\b{name}\(", code)}
    assert set(item.views) == built, (item.views, built)
    assert re.search(rf"from cnnlib\.exercises\.{item.checkers} import", code), item.checkers
    assert item.smoke is None or item.smoke[0] in item.views
    assert 0 < item.budget_s <= 60
