"""Strict nbval with a learner's second "Run All", offline, in the same kernel.

With ``--nbval`` every notebook's cells run once in a fresh kernel against the saved outputs.
This plugin adds to each notebook, in that same kernel (so no notebook is executed again from
scratch), what nbval alone cannot see:

- ``offline``: before the first cell, network connections are blocked (the course must run
  without a network);
- ``no figure open after Run All``: after the last cell, no matplotlib figure is left open;
- ``no view shows an error after Run All``: no live view of ``cnnlib.widgets`` shows an error
  in its message line (the widget ``cnnlib-message``; nbval compares no widget state);
- ``Run All in its time budget``: the cells of the first run took at most the notebook's
  budget (``cnnlib.course.Lesson.budget_s``) times ``BUDGET_SLACK`` on this machine, and none
  whose output nbval does not compare (``nbval-ignore-output``) printed a traceback or an
  error on stderr;
- ``Cell N again``: every code cell run a second time, as a second "Run All" in the same kernel,
  compared with the saved outputs by nbval's own strict comparison (so the second run shows
  what the first showed), then the figure and view checks once more.

It lives at the repository's root so that it sees the notebooks' items (``pytest --nbval
notebooks``); without ``--nbval`` it does nothing.
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict

import nbformat
import pytest

#: a notebook's cells may take this many times its quiet-machine budget
#: (``cnnlib.course.Lesson.budget_s``, `make bench`'s yardstick) on a loaded test machine
BUDGET_SLACK = 8.0

BLOCK_NETWORK = """\
import socket as _socket

def _no_network(*args, **kwargs):
    raise OSError("network access is blocked while the course notebooks are tested")

_socket.socket.connect = _no_network
_socket.socket.connect_ex = _no_network
_socket.create_connection = _no_network
del _socket, _no_network
"""

NO_FIGURE_OPEN = """\
import matplotlib.pyplot as _plt
assert not _plt.get_fignums(), f"matplotlib figures left open: {_plt.get_fignums()}"
del _plt
"""

NO_VIEW_SHOWS_AN_ERROR = """\
from ipywidgets.widgets.widget import _instances as _live
_errors = [
    w.value
    for w in list(_live.values())
    if "cnnlib-message" in getattr(w, "_dom_classes", ()) and w.value
]
assert not _errors, f"views showing an error: {_errors}"
del _live, _errors
"""


def _cell(source: str) -> nbformat.NotebookNode:
    """A code cell whose saved run printed nothing (so any output fails nbval's comparison)."""
    cell = nbformat.v4.new_code_cell(source)
    cell.execution_count = 1
    return cell


#: per notebook (nbval's IPyNbFile): the seconds each cell of the first run took, and what its
#: cells whose outputs nbval does not compare printed on stderr with a traceback or an error
_FIRST_RUN: dict = defaultdict(lambda: {"seconds": [], "stderr": []})


class TimeBudget(pytest.Item):
    """The first run's cells in the notebook's time budget; no traceback or error on stderr
    in a cell whose outputs nbval does not compare."""

    def runtest(self) -> None:
        from cnnlib.course import LESSONS, Lesson

        name = self.parent.path.name
        budget = next((item.budget_s for item in LESSONS if item.file == name), Lesson.budget_s)
        seen = _FIRST_RUN[self.parent]
        seconds = sum(seen["seconds"])
        limit = budget * BUDGET_SLACK
        assert seconds < limit, f"Run All of {name} took {seconds:.0f} s (limit {limit:.0f} s)"
        assert not seen["stderr"], "\n".join(seen["stderr"])

    def reportinfo(self):
        return self.path, None, f"{self.parent.name}::{self.name}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if not getattr(item, "first_run", False):
        return (yield)
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        seen = _FIRST_RUN[item.parent]
        seen["seconds"].append(time.perf_counter() - start)
        if not item.options["check"]:  # nbval-ignore-output: nbval compares none of it
            for out in item.test_outputs or []:
                text = out.get("text", "") if out.get("name") == "stderr" else ""
                if "Traceback" in text or "Error" in text:
                    seen["stderr"].append(f"{item.name}: {text.strip()}")


def pytest_collection_modifyitems(session, config, items):
    if not (config.getoption("nbval", False) or config.getoption("nbval_lax", False)):
        return
    from nbval.plugin import IPyNbCell

    cells = defaultdict(list)
    for item in items:
        if isinstance(item, IPyNbCell):
            cells[item.parent].append(item)
    if not cells:
        return

    def extra(parent, name, cell, options):
        return IPyNbCell.from_parent(parent, name=name, cell_num=-1, cell=cell, options=options)

    out = []
    for item in items:
        if not isinstance(item, IPyNbCell):
            out.append(item)
            continue
        parent = item.parent
        own = cells[parent]
        check = defaultdict(bool, check=True)
        if item is own[0]:
            out.append(extra(parent, "offline", _cell(BLOCK_NETWORK), check))
        item.first_run = True
        out.append(item)
        if item is own[-1]:
            out.append(extra(parent, "no figure open after Run All", _cell(NO_FIGURE_OPEN), check))
            out.append(
                extra(
                    parent,
                    "no view shows an error after Run All",
                    _cell(NO_VIEW_SHOWS_AN_ERROR),
                    check,
                )
            )
            out.append(TimeBudget.from_parent(parent, name="Run All in its time budget"))
            for first in own:
                again = IPyNbCell.from_parent(
                    parent,
                    name=f"{first.name} again",
                    cell_num=first.cell_num,
                    # a copy as collected: nbval merges the saved stream chunks in place
                    cell=copy.deepcopy(first.cell),
                    options=first.options,
                )
                out.append(again)
            out.append(
                extra(parent, "no figure open after a second Run All", _cell(NO_FIGURE_OPEN), check)
            )
            out.append(
                extra(
                    parent,
                    "no view shows an error after a second Run All",
                    _cell(NO_VIEW_SHOWS_AN_ERROR),
                    check,
                )
            )
    items[:] = out
