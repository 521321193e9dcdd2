"""Strict nbval with a learner's second "Run All", offline, in the same kernel.

With ``--nbval`` every notebook's cells run once in a fresh kernel against the saved outputs.
This plugin adds to each notebook, in that same kernel (so no notebook is executed again from
scratch), what nbval alone cannot see:

- ``offline``: before the first cell, network connections are blocked (the course must run
  without a network);
- ``no figure open after Run All``: after the last cell, no matplotlib figure is left open;
- ``Cell N again``: every code cell run a second time, as a second "Run All" in the same kernel,
  compared with the saved outputs by nbval's own strict comparison (so the second run shows
  what the first showed), then the figure check once more.

It lives at the repository's root so that it sees the notebooks' items (``pytest --nbval
notebooks``); without ``--nbval`` it does nothing.
"""

from __future__ import annotations

import copy
from collections import defaultdict

import nbformat

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


def _cell(source: str) -> nbformat.NotebookNode:
    """A code cell whose saved run printed nothing (so any output fails nbval's comparison)."""
    cell = nbformat.v4.new_code_cell(source)
    cell.execution_count = 1
    return cell


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
        out.append(item)
        if item is own[-1]:
            out.append(extra(parent, "no figure open after Run All", _cell(NO_FIGURE_OPEN), check))
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
    items[:] = out
