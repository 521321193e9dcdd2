"""``cells_for_views``: which cells the browser smoke test runs (no browser needed here).

A hand-made notebook whose slice is worked out by hand, and the course's notebooks: every cell
that builds a registry view is in its notebook's slice, with the set-up cell.
"""

from __future__ import annotations

import json

import pytest

from cnnlib.course import LESSONS

from .helpers import NOTEBOOKS, cell_names, cells_for_views, cells_needed, setup_cell

CELLS = [
    ("markdown", "# a title"),  # 0
    ("code", "import numpy as np\nfrom views import Grid, Other\nuse_style('lecture')"),  # 1
    ("code", "size = 7\nunused = np.ones(3)"),  # 2
    ("code", "data = np.zeros(size)"),  # 3
    ("code", "slow = train_for_minutes()"),  # 4: nothing below reads it
    ("code", "%time data.fill(1)"),  # 5: a magic line only, read as `pass`
    ("code", "data.sort()"),  # 6: may change data in place
    ("code", "def scale(x):\n    return factor * x"),  # 7: reads factor when called
    ("code", "factor = 2"),  # 8
    ("markdown", "Some prose."),  # 9
    ("code", "tune(model)"),  # 10: model is not bound above: nothing to add
    ("code", "rows = [i * i for i in range(size)]"),  # 11: i is the comprehension's own
    ("code", "i = 99"),  # 12: bound, never read by the view's cells
    ("code", "view = Grid(scale(data), rows)\nview.set_controls(row=size)\nview"),  # 13
    ("code", "Other()"),  # 14: not a view of this notebook's list
    ("code", "view.set_controls(row=step)"),  # 15: changes the view: what Run All leaves
    ("code", "step = 3"),  # 16: read by 15, but bound below it: Run All fails there too
    ("code", "view = Grid(data, rows)"),  # 17: a new view under the same name
    ("code", "view.set_controls(row=1)"),  # 18: changes the new view, not 13's
]


@pytest.fixture
def notebook(tmp_path):
    cells = [{"cell_type": kind, "source": source, "metadata": {}} for kind, source in CELLS]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    return path


def test_the_slice_of_a_hand_made_notebook(notebook):
    # 13 reads Grid (1), scale (7), data (last changed by 6), rows (11) and size (2);
    # scale, called in 13, reads factor (8, below 7 but above 13); 6 reads data (3);
    # 3 reads np (1) and size (2); 11 reads size (2)
    # 15 changes 13's view; 17 builds another Grid, 18 changes it
    grid = [1, 2, 3, 6, 7, 8, 11, 13, 15, 17, 18]
    assert cells_for_views(notebook, ("Grid",)) == grid
    assert cells_for_views(notebook, ("Grid", "Other")) == sorted([*grid, 14])


def test_the_cells_an_answer_typed_into_a_cell_needs(notebook):
    # cell 10 as given reads nothing bound above it; an answer typed in its place that reads
    # data and factor needs data's last change (6), what that reads (3: np from 1, size from
    # 2) and factor (8)
    assert setup_cell(notebook) == 1
    assert cells_needed(notebook, [1, 10]) == [1, 10]
    answer = "rows2 = [x * factor for x in data]"
    assert cells_needed(notebook, [1, 10], reads=(answer,)) == [1, 2, 3, 6, 8, 10]
    # looked up above cell 10 only: step is bound by 16, below it
    assert cells_needed(notebook, [1, 10], reads=("print(step)",)) == [1, 10]


@pytest.mark.parametrize(
    ("source", "changed", "read", "read_when_called"),
    [
        ("a = b + 1", {"a"}, {"b"}, set()),
        ("a = 1\nb = a", {"a", "b"}, set(), set()),  # bound above its use in the cell
        ("a = a + 1", {"a"}, {"a"}, set()),
        ("a += 1", {"a"}, {"a"}, set()),
        ("x[0] = y", {"x"}, {"x", "y"}, set()),
        ("x.fit(y)", {"x"}, {"x", "y"}, set()),
        ("train(net, data=d)", {"net", "d"}, {"train", "net", "d"}, set()),
        ("print(len(x))", set(), {"x"}, set()),  # print changes nothing; builtins are no names
        ("for k in ks:\n    total = k", {"k", "total"}, {"ks"}, set()),
        ("[v for v in vs if v > lo]", set(), {"vs", "lo"}, set()),
        ("def f(a, b=d):\n    return a + g", {"f"}, {"d"}, {"g"}),
        ("h = lambda: [q for q in qs]", {"h"}, set(), {"qs"}),
        ("with open(p) as fh:\n    pass", {"fh"}, {"p"}, set()),
        ("import a.b as c, d.e", {"c", "d"}, set(), set()),
        ("%matplotlib inline\n!ls\nz = 1", {"z"}, set(), set()),
        ("if (n := size) > 2:\n    m = n", {"n", "m"}, {"size"}, set()),
    ],
)
def test_what_a_cell_binds_and_reads(source, changed, read, read_when_called):
    assert cell_names(source) == (changed, read, read_when_called)


@pytest.mark.parametrize("item", LESSONS, ids=[item.file[:2] for item in LESSONS])
def test_every_view_cell_of_a_lesson_is_in_its_slice(item):
    cells = json.loads((NOTEBOOKS / item.file).read_text())["cells"]
    code = {i: "".join(c["source"]) for i, c in enumerate(cells) if c["cell_type"] == "code"}
    picked = cells_for_views(NOTEBOOKS / item.file, item.views)
    builds = {i for i, source in code.items() if any(f"{v}(" in source for v in item.views)}
    assert builds and builds <= set(picked)
    assert any('use_style("lecture")' in code[i] for i in picked)
    assert set(picked) <= set(code)
