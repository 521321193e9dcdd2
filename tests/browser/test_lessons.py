"""Every lesson in JupyterLab, driven by the course registry (``cnnlib.course.LESSONS``).

One test per notebook: open it, run the cells that build its views (``cells_for_views``: the
set-up cell, every cell that builds one of its registry ``views``, and the cells those read),
with no error and no view showing an error, find the view its ``smoke`` entry names, move that
slider with the keyboard and wait for the slider, the readout and a new picture
(``helpers.smoke``). What is special to a notebook (its numbers, an impossible setting, a
second view) is checked after that, in the same page, by ``special_<NN>_*.py``'s
``check(page, seen)``.

What this checks that strict nbval cannot: the views render in JupyterLab's front end and
answer the keyboard there (nbval sees no widget state). What it leaves to strict nbval, which
runs every cell of every notebook: each cell runs without an error and shows its saved
outputs, the whole notebook runs in its time budget and leaves no view showing an error (the
root ``conftest.py``). A full Run All in the browser is still done for 00 and, from the wheel,
for 01 (``test_00_index_and_rise.py``).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from cnnlib.course import LESSONS

from .helpers import smoke

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
SMOKED = [item for item in LESSONS if item.smoke]


def special(item):
    """The notebook's own checks (a module ``special_<NN>_*.py``), or None."""
    found = sorted(HERE.glob(f"special_{item.number:02d}_*.py"))
    return importlib.import_module(f".{found[0].stem}", __package__) if found else None


@pytest.mark.parametrize("item", SMOKED, ids=[item.file.removesuffix(".ipynb") for item in SMOKED])
def test_notebook_runs_and_its_view_responds(page, item):
    seen = smoke(page, item)
    print(f"{item.file}: its views' cells took {seen['seconds']:.1f} s")
    module = special(item)
    if module is not None:
        module.check(page, seen)


def test_every_special_module_belongs_to_a_smoked_lesson():
    numbers = {item.number for item in SMOKED}
    for path in HERE.glob("special_*.py"):
        assert int(path.stem.split("_")[1]) in numbers, path.name
