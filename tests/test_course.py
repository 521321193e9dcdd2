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
    # hand-worked from the table: 01 -> 02 -> {03, 04, 05, 06} -> 07
    assert [course.depth(n) for n in range(1, 8)] == [0, 1, 2, 2, 2, 2, 3]


def test_lesson_checks_its_argument():
    assert course.lesson(6).file == "06_backprop.ipynb"
    with pytest.raises(ValueError, match="number"):
        course.lesson(0)
    with pytest.raises(ValueError, match="at most 7"):
        course.lesson(8)
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


def test_index_notebook_shows_the_table_of_contents():
    import nbformat

    nb = nbformat.read(NOTEBOOKS / "00_index.ipynb", as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert any(course.table_markdown() in s for s in sources), "regenerate 00_index's table"
