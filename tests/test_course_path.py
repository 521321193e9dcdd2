"""The core path of each notebook (cnnlib.course.path_stats) and the README's table of it.

Rules checked on the notebooks of the two-week path and the index: core-path prose within the
target, "Going further" sections skipped by the slideshow and never needed by the core, the
set-up cell off the slides, no long code cell on a slide, the lecture style switched on.
"""

import ast
import json
from pathlib import Path

import pytest

from cnnlib import course

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PATH_FILES = [course.INDEX_FILE] + [course.lesson(n).file for n in course.TWO_WEEK_PATH]
MAX_CODE_LINES = 20


def load(file: str) -> dict:
    return json.loads((NOTEBOOKS / file).read_text(encoding="utf-8"))


def md(text: str, slide: str = "-") -> dict:
    return {
        "cell_type": "markdown",
        "metadata": {"slideshow": {"slide_type": slide}},
        "source": [text],
    }


def code(text: str, slide: str = "-") -> dict:
    return {"cell_type": "code", "metadata": {"slideshow": {"slide_type": slide}}, "source": [text]}


def test_path_stats_on_a_hand_counted_notebook():
    nb = {
        "cells": [
            md("# Title with four words", "slide"),  # 5 core words
            code("import numpy", "skip"),  # off the slides
            md("## One two", "slide"),  # 3 core words
            code("x = 1"),  # on a slide
            md("## Going further: depth here", "skip"),  # 5 optional words
            code("y = 2", "skip"),
            md("more optional text", "skip"),  # 3 optional words
            md("## Exercises", "slide"),  # 2 core words, ends the section
            code("z = 3", "subslide"),  # on a slide, and a slide
            md("<details><summary>Solution</summary> a b</details>"),  # 3 optional words
        ]
    }
    assert course.going_further(nb) == [False] * 4 + [True] * 3 + [False] * 3
    stats = course.path_stats(nb, 3)
    assert (stats.core_words, stats.optional_words) == (10, 11)
    assert (stats.slides, stats.code_on_slides) == (4, 2)
    # 10 words at 130 a minute, 2 code cells and 4 slides at a minute each: 6.08 -> 7
    assert stats.minutes == 7


def test_readme_table_is_current():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = f"{course.TABLE_BEGIN}\n{course.path_table()}\n{course.TABLE_END}"
    assert block in text, "run `python -m cnnlib.course table --write` to regenerate the table"


def test_write_table_needs_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="markers"):
        course.write_table(readme)
    readme.write_text(f"a\n{course.TABLE_BEGIN}\nold\n{course.TABLE_END}\nb\n", encoding="utf-8")
    assert course.write_table(readme) is True
    assert course.write_table(readme) is False
    assert readme.read_text(encoding="utf-8").endswith(f"{course.TABLE_END}\nb\n")


@pytest.mark.parametrize("file", PATH_FILES)
def test_core_path_within_target(file):
    stats = course.path_stats(load(file))
    assert stats.core_words <= course.CORE_WORDS_TARGET, (
        f"{file}: {stats.core_words} words of core-path prose; move depth into a "
        f"'{course.GOING_FURTHER.strip()}' section"
    )


def test_two_week_path_fits_six_hours():
    stats = [course.path_stats(load(course.lesson(n).file)) for n in course.TWO_WEEK_PATH]
    assert sum(s.minutes for s in stats) <= course.TWO_WEEK_MINUTES


@pytest.mark.parametrize("file", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_going_further_sections_are_skipped(file):
    nb = load(file)
    shown = [
        i
        for i, (cell, further) in enumerate(zip(nb["cells"], course.going_further(nb), strict=True))
        if further and course.slide_type(cell) != "skip"
    ]
    assert not shown, f"{file}: cells {shown} are in a Going-further section but on a slide"


def _without_magics(source: str) -> str:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def names(source: str) -> tuple[set[str], set[str]]:
    """The names a cell binds and the names it reads (IPython magics dropped)."""
    tree = ast.parse(_without_magics(source))
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else read).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):  # a function's own parameter
            bound.add(node.arg)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound, read


#: a Python name in backticks in a markdown cell (`x_aug`, `x_aug, y_aug`)
TICKED = r"`([A-Za-z_][\w, ]*)`"


def core_uses_of_going_further(nb: dict) -> list[tuple[int, str]]:
    """(cell, name) for each name a core cell reads, and does not bind itself, that only a
    Going-further cell bound before it. A core markdown cell (an exercise, a summary, a
    solution) reads the names it quotes in backticks: it must not send the learner to a
    variable only an optional section made (a name some call takes as a keyword argument,
    like `ceil_mode`, is the library's word, not a variable)."""
    import re

    keywords = {
        node.arg
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        for node in ast.walk(ast.parse(_without_magics("".join(cell["source"]))))
        if isinstance(node, ast.keyword) and node.arg
    }
    core, only_further, found = set(), set(), []
    for i, (cell, further) in enumerate(zip(nb["cells"], course.going_further(nb), strict=True)):
        if cell["cell_type"] == "markdown" and not further:
            quoted = re.findall(TICKED, "".join(cell["source"]))
            read = {n.strip() for q in quoted for n in q.split(",")}
            found += [(i, name) for name in sorted(read & only_further - keywords)]
        if cell["cell_type"] != "code":
            continue
        bound, read = names("".join(cell["source"]))
        if further:
            only_further |= bound - core
        else:
            found += [(i, name) for name in sorted((read - bound) & only_further)]
            core |= bound
            only_further -= bound
    return found


def test_the_dependency_check_catches_a_use():
    nb = {
        "cells": [
            code("a = 1"),
            md("## Going further: b", "skip"),
            code("b = a + 1\na = 5\nc = 2", "skip"),
            md("## Back", "slide"),
            code("print(a, b)"),
            md("Exercise: train on `b` instead of `a`, then try `a, b`."),
            code("f(c=1)"),
            md("The keyword `c` is a word of the library's."),
        ]
    }
    assert core_uses_of_going_further(nb) == [(4, "b"), (5, "b")]


@pytest.mark.parametrize("file", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_core_never_uses_a_going_further_cell(file):
    found = core_uses_of_going_further(load(file))
    assert not found, f"{file}: core cells read names only Going-further cells define: {found}"


@pytest.mark.parametrize("file", PATH_FILES)
def test_setup_cells_are_off_the_slides(file):
    cells = load(file)["cells"]
    second_slide = [i for i, c in enumerate(cells) if course.slide_type(c) == "slide"][1]
    shown = [
        i
        for i in range(second_slide)
        if cells[i]["cell_type"] == "code" and course.slide_type(cells[i]) != "skip"
    ]
    assert not shown, f"{file}: set-up cells {shown} sit on the title slide; mark them 'skip'"


@pytest.mark.parametrize("file", PATH_FILES)
def test_lecture_style_in_the_setup_cell(file):
    cells = load(file)["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    setup = next(c for c in code if "google.colab" not in c)
    assert 'use_style("lecture")' in setup, f"{file}: the set-up cell must call it"


# -- learn before use ------------------------------------------------------------------------------
#: what in a core code cell shows that the cell uses a concept of ``course.CONCEPTS``
MARKERS = {
    "gradient": r"\.backward\(|autograd\.grad|requires_grad|\.grad\b|layer_gradient_norms|"
    r"empirical_field|saliency|grad_cam",
    "loss": r"cross_entropy|mse_loss|\bloss\b",
    "optimiser": r"torch\.optim|\boptim\.",
    "training loop": r"(?<![.\w])train\(|\btrain_\w+\(|init_skip_comparison\(|"
    r"trained_shapes_cnn\(|load_shapes_cnn\(",
    "backpropagation": r"conv2d_backward|layer_gradient_norms",
}
#: the notebooks whose registry entries this branch keeps (a later notebook adds its own)
CHECKED = [item for item in course.LESSONS if item.number <= 8]


def core_code(nb: dict) -> list[str]:
    return [
        "".join(cell["source"])
        for cell, further in zip(nb["cells"], course.going_further(nb), strict=True)
        if cell["cell_type"] == "code" and not further
    ]


def test_concepts_are_named_from_the_list():
    for item in course.LESSONS:
        unknown = set(item.uses + item.teaches) - set(course.CONCEPTS)
        assert not unknown, f"{item.file}: {unknown} are not in course.CONCEPTS"
    assert set(MARKERS) <= set(course.CONCEPTS)


@pytest.mark.parametrize("item", course.LESSONS, ids=lambda i: i.file)
def test_no_concept_is_used_before_it_is_taught(item):
    taught = {c for other in course.LESSONS[: item.number] for c in other.teaches}
    early = set(item.uses) - taught
    assert not early, f"{item.file} uses {early} before any notebook teaches it"


def test_every_concept_is_taught_once():
    teachers = [c for item in course.LESSONS for c in item.teaches]
    assert sorted(teachers) == sorted(course.CONCEPTS)


@pytest.mark.parametrize("item", CHECKED, ids=lambda i: i.file)
def test_the_registry_lists_what_the_core_code_uses(item):
    import re

    code = "\n".join(core_code(load(item.file)))
    found = {concept for concept, marker in MARKERS.items() if re.search(marker, code)}
    missing = found - set(item.uses) - set(item.teaches)
    assert not missing, f"{item.file}: its core code uses {missing}; add them to `uses`"


def test_the_learners_loop_comes_before_the_first_train_call():
    import re

    def first(pattern: str) -> int:
        return next(
            item.number
            for item in course.LESSONS
            if any(re.search(pattern, c) for c in core_code(load(item.file)))
        )

    loop = first(r"check_training_loop\(")
    assert loop < first(r"(?<![.\w])train\(")
    assert "training loop" in course.lesson(loop).teaches


# -- speaker notes ---------------------------------------------------------------------------------
def test_section_minutes_on_a_hand_counted_notebook():
    nb = {
        "cells": [
            md("# Title", "slide"),  # 2 words, a slide
            code("import x", "skip"),
            md("## A " + "word " * 128, "slide"),  # 130 words: one minute, and a slide
            code("x = 1"),  # a code cell
            md("more", "subslide"),  # 1 word and a sub-slide
            md("## Going further: deep", "skip"),
            code("y = 2", "skip"),
        ]
    }
    (i0, m0), (i1, m1) = course.section_minutes(nb)
    assert (i0, i1) == (0, 2)
    assert m0 == pytest.approx(2 / 130 + 1)
    assert m1 == pytest.approx(1 + 1 + 1 + 1 / 130 + 1)


def test_write_notes_adds_one_note_per_slide_and_is_stable(tmp_path):
    nb = {
        "cells": [md("# Title", "slide"), md("## Two", "slide"), code("x = 1")],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert course.write_notes(path) is True
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    kinds = [course.slide_type(c) for c in cells]
    assert kinds == ["slide", "notes", "slide", "notes", "-"]
    assert "".join(cells[1]["source"]).startswith("*Lecturer: about 1 min here (1 min so far).")
    # a slide and a code cell: 2 minutes, 3 so far, and the hint for code
    second = "".join(cells[3]["source"])
    assert second.startswith("*Lecturer: about 2 min here (3 min so far). Run the code live")
    assert course.write_notes(path) is False


@pytest.mark.parametrize("file", PATH_FILES[1:])
def test_speaker_notes_are_current(file, tmp_path):
    copy = tmp_path / file
    copy.write_text((NOTEBOOKS / file).read_text(encoding="utf-8"), encoding="utf-8")
    assert course.write_notes(copy) is False, "run `python -m cnnlib.course notes`"
    cells = load(file)["cells"]
    notes = [c for c in cells if course.NOTES_TAG in c.get("metadata", {}).get("tags", [])]
    assert len(notes) == len(course.section_minutes(load(file))) > 0
    for note in notes:  # one complete italic line for the lecturer, never course text
        text = "".join(note["source"])
        assert "\n" not in text and "|" not in text, text
        assert text.startswith("*Lecturer: about ") and text.endswith(".*"), text


# -- code on slides --------------------------------------------------------------------------------
def long_cells(nb: dict) -> list[tuple[int, int]]:
    """``(cell, lines)`` of each code cell on a slide of the core path with more than
    MAX_CODE_LINES lines."""
    found = []
    for i, (cell, further) in enumerate(zip(nb["cells"], course.going_further(nb), strict=True)):
        if cell["cell_type"] != "code" or further or course.slide_type(cell) in ("skip", "notes"):
            continue
        lines = len("".join(cell["source"]).splitlines())
        if lines > MAX_CODE_LINES:
            found.append((i, lines))
    return found


@pytest.mark.parametrize("file", PATH_FILES)
def test_no_long_code_cell_on_a_slide(file):
    found = long_cells(load(file))
    assert not found, (
        f"{file}: code cells (index, lines) of more than {MAX_CODE_LINES} lines on a slide: "
        f"{found}; move plotting code into cnnlib or checks into a cell with slide type 'skip'"
    )


def test_long_cells_are_found_only_on_slides():
    long = "\n".join(f"x{i} = {i}" for i in range(21))
    nb = {
        "cells": [
            code(long),  # on a slide: found
            code(long, "skip"),  # skipped: allowed
            md("## Going further: more", "skip"),
            code(long, "skip"),
            md("## Back", "slide"),
            code("\n".join(long.splitlines()[:20])),  # 20 lines: allowed
        ]
    }
    assert long_cells(nb) == [(0, 21)]


def test_slide_hint_by_what_the_slide_shows():
    hints = dict(course.HINTS)
    exercise = [md("## Exercise 2: predict", "slide"), code("x = 1")]
    assert course.slide_hint(exercise) == hints["exercise"]
    assert course.slide_hint([md("## A", "slide"), code("check_pool(f)")]) == hints["exercise"]
    assert course.slide_hint([md("## A", "slide"), code("SlidingKernel(x, k)")]) == hints["view"]
    assert course.slide_hint([md("## A", "slide"), code("print(1)")]) == hints["code"]
    prose = md("## A\n\nThe Exercise below is for later.", "slide")  # not a heading
    assert course.slide_hint([prose]) == hints["prose"]
    for hint in hints.values():
        assert hint.endswith(".") and "*" not in hint
