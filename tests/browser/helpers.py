"""Helpers for the browser tests (the fixtures that start JupyterLab and Chromium are in
``conftest.py``; tests import these from here, not from the conftest).

``open_notebook``, ``run_all``, ``error_outputs``, ``view_locator``, ``move_slider``,
``set_slider``, ``slider_value``, ``figure_src``, ``figure_png``, ``wait_for_change``,
``wait_until``, ``wait_for_idle``, ``screenshot``, ``write_notebook``, ``new_page`` (a page
whose notebooks' kernels are shut down with it); ``cells_needed``,
``cells_for_views`` and ``run_cells`` run only the cells of a notebook that some cells (its
views, an exercise) need. A slider moved by several key presses
updates the kernel once per press: wait for the final readout (``wait_until``), then
``wait_for_idle`` before reading the figure.
A view is found by the CSS classes its ipywidgets box carries: ``cnnlib-view cnnlib-<Class>``;
its controls carry ``cnnlib-control-<name>``, its figure ``cnnlib-figure``, its readout
``cnnlib-readout`` and its error line ``cnnlib-message``.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import json
import re
import subprocess
import symtable
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
#: generous: the machine is small and shared; a notebook must still finish in well under this
RUN_ALL_TIMEOUT_S = 240.0


@dataclass
class Lab:
    """A running JupyterLab server."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path

    def lab_url(self, path: str) -> str:
        return f"{self.url}{path}{'&' if '?' in path else '?'}token={self.token}"


_LAB: Lab | None = None


def set_lab(lab: Lab | None) -> None:
    """Called by the ``lab`` fixture: the server the helpers talk to (None when it stops)."""
    global _LAB
    _LAB = lab


def current_lab() -> Lab | None:
    """The server the helpers talk to now (None outside a browser test)."""
    return _LAB


# -- pages -------------------------------------------------------------------------------
def kernel_ids(lab: Lab) -> set[str]:
    """The ids of the kernels ``lab`` runs now."""
    with urllib.request.urlopen(lab.lab_url("/api/kernels"), timeout=30) as r:
        return {k["id"] for k in json.loads(r.read())}


def shut_down_kernels(lab: Lab, ids: set[str]) -> None:
    """Shut down the kernels ``ids`` of ``lab`` (JupyterLab's REST API)."""
    for kernel in ids:
        request = urllib.request.Request(lab.lab_url(f"/api/kernels/{kernel}"), method="DELETE")
        with contextlib.suppress(urllib.error.HTTPError):  # gone already
            urllib.request.urlopen(request, timeout=30).close()


@contextlib.contextmanager
def new_page(browser: Any, width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A fresh page (its own browser context: cookies, storage) of ``width`` x ``height``,
    closed afterwards with the kernels the server started meanwhile: every notebook a test
    opens starts one, and left running each holds about half a gigabyte until the server
    stops."""
    lab = _LAB
    before = kernel_ids(lab) if lab is not None else set()
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.console_errors = []  # for debugging a failing test
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    try:
        yield page
    finally:
        context.close()
        if lab is not None:
            shut_down_kernels(lab, kernel_ids(lab) - before)


# -- helpers -----------------------------------------------------------------------------


def _lab() -> Lab:
    if _LAB is None:
        raise RuntimeError("the `lab` fixture is not active: request `page` in the test")
    return _LAB


def wait_until(
    condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> Any:
    """Poll ``condition()`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what or condition}")
        time.sleep(interval)


_KERNEL_STATUS_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.sessionContext) return null;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return k ? k.status : null;
}"""


def kernel_status(page: Any) -> str | None:
    """The current notebook's kernel status ("idle", "busy", ...) or None if not ready."""
    return page.evaluate(_KERNEL_STATUS_JS)


def wait_for_idle(page: Any, timeout: float = 60.0, settle_ms: int = 300) -> None:
    """Wait for the kernel to be idle, then ``settle_ms`` for the page to apply its messages.

    Call it after something that must have reached the kernel (a readout that changed):
    right after a key press the kernel may not have seen the message yet, and is still idle.
    """
    wait_until(lambda: kernel_status(page) == "idle", timeout=timeout, what="an idle kernel")
    page.wait_for_timeout(settle_ms)


def open_notebook(page: Any, name: str, timeout: float = 90.0) -> None:
    """Open ``notebooks/<name>`` (the server's copy) and wait for an idle kernel."""
    lab = _lab()
    if not (lab.root / name).exists():
        pytest.fail(f"{name} is not in the server's copy of notebooks/ ({lab.root})")
    page.goto(lab.lab_url(f"/lab/tree/{name}?reset"))
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout * 1000)
    page.locator(".jp-NotebookPanel").first.wait_for(state="visible", timeout=timeout * 1000)
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # room for the notebook
    wait_until(
        lambda: kernel_status(page) == "idle", timeout=timeout, what=f"an idle kernel for {name}"
    )


_CELLS_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = [];
  w.content.widgets.forEach((c, index) => {
    const m = c.model;
    if (m.type !== 'code') return;
    cells.push({index, count: m.executionCount, outputs: m.outputs.toJSON(),
                source: m.sharedModel.getSource()});
  });
  return cells;
}"""


def code_cells(page: Any) -> list[dict]:
    """Every code cell of the current notebook: its index among all cells, execution count,
    outputs (nbformat), source."""
    return page.evaluate(_CELLS_JS)


def run_all(page: Any, timeout: float = RUN_ALL_TIMEOUT_S) -> float:
    """Run every cell; wait until each code cell has an execution count and the kernel is idle.

    An error stops Run All: then this returns once the kernel is idle, and ``error_outputs``
    reports the error. Returns the wall time in seconds. Outputs are cleared first, so a count
    left over from the saved notebook cannot pass for a fresh run.
    """
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    wait_until(
        lambda: all(c["count"] is None for c in code_cells(page)), what="cleared execution counts"
    )
    start = time.monotonic()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def done() -> bool:
        cells = code_cells(page)
        ran = all(c["count"] is not None for c in cells)
        # Run All stops at the first error: the cells below it never get a count
        failed = any(o.get("output_type") == "error" for c in cells for o in c["outputs"])
        return (ran or failed) and kernel_status(page) == "idle"

    wait_until(done, timeout=timeout, interval=0.25, what="every cell to run (Run All)")
    # widget views render asynchronously after the last reply
    page.wait_for_timeout(500)
    return time.monotonic() - start


def error_outputs(page: Any) -> list[str]:
    """Texts of every error: error outputs, stderr with a traceback or an Error, view messages."""
    errors = []
    for cell in code_cells(page):
        first_line = cell["source"].splitlines()[0] if cell["source"] else ""
        for out in cell["outputs"]:
            if out.get("output_type") == "error":
                errors.append(f"[{cell['count']}] {first_line}: {out['ename']}: {out['evalue']}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out["text"]) if isinstance(out["text"], list) else out["text"]
                if "Traceback" in text or "Error" in text:
                    errors.append(f"[{cell['count']}] {first_line}: {text.strip()}")
    for text in page.locator(".cnnlib-message").all_inner_texts():
        if text.strip():
            errors.append(f"view message: {text.strip()}")
    return errors


def view_locator(page: Any, view_class: str, index: int = 0) -> Any:
    """The ``index``-th rendered view of class ``view_class`` (its ipywidgets VBox)."""
    view = page.locator(f".cnnlib-view.cnnlib-{view_class}").nth(index)
    view.wait_for(state="attached", timeout=30_000)
    view.scroll_into_view_if_needed()
    return view


def control(view: Any, name: str) -> Any:
    """The control ``name`` of a view (the element carrying ``cnnlib-control-<name>``)."""
    return view.locator(f".cnnlib-control-{name}").first


def move_slider(view: Any, control_name: str, steps: int) -> None:
    """Move a slider by ``steps`` (negative: left) with the keyboard, as a user would."""
    handle = control(view, control_name).locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    key = "ArrowRight" if steps >= 0 else "ArrowLeft"
    for _ in range(abs(steps)):
        handle.press(key)


def set_slider(view: Any, control_name: str, value: float) -> None:
    """Type ``value`` into a slider's readout box and press Enter."""
    readout = control(view, control_name).locator(".widget-readout").first
    readout.scroll_into_view_if_needed()
    readout.click()
    readout.press("Control+A")
    readout.type(str(value))
    readout.press("Enter")


def slider_value(view: Any, control_name: str) -> str:
    """The text of a slider's readout, as the user sees it."""
    return control(view, control_name).locator(".widget-readout").first.inner_text().strip()


def _figure(view: Any) -> Any:
    return view.locator("img.cnnlib-figure, .cnnlib-figure img").first


def figure_src(view: Any) -> str:
    """The ``src`` of a view's figure (a new blob URL whenever the PNG changes)."""
    return _figure(view).get_attribute("src") or ""


def figure_png(view: Any) -> bytes:
    """The PNG bytes a view's figure shows now (fetched from its blob URL in the page)."""
    b64 = _figure(view).evaluate(
        """async (img) => {
          const buf = await (await fetch(img.src)).arrayBuffer();
          let s = ''; const a = new Uint8Array(buf);
          for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
          return btoa(s);
        }"""
    )
    return base64.b64decode(b64)


def wait_for_change(get: Callable[[], Any], old: Any, timeout: float = 30.0, what: str = "") -> Any:
    """Wait until ``get()`` differs from ``old``; return the new value."""
    box: dict[str, Any] = {}

    def changed() -> bool:
        box["v"] = get()
        return box["v"] != old

    wait_until(changed, timeout=timeout, what=what or "a change")
    return box["v"]


def screenshot(target: Any, name: str) -> Path:
    """Save a screenshot of a page or an element as tests/browser/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    target.screenshot(path=str(path))
    return path


# -- the cells a notebook's views need ---------------------------------------------------------
_BUILTINS = frozenset(dir(builtins))
_MAGIC = re.compile(r"^\s*[%!]")
#: nested scopes: what they bind is their own, what they read of the cell's names is read later
_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.ClassDef,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def _target_names(node: ast.AST, out: set[str]) -> None:
    """The names an assignment target binds or changes (``x``, ``x[0]`` and ``x.a`` change x)."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    if isinstance(node, ast.Name):
        out.add(node.id)
    elif isinstance(node, (ast.Tuple, ast.List)):
        for elt in node.elts:
            _target_names(elt, out)


def _root_name(node: ast.AST) -> str | None:
    """``x`` of ``x.a[0].b(...)``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _changed_names(tree: ast.Module) -> set[str]:
    """Names a cell's top-level statements bind, or may change in place: an assignment to
    ``x``, ``x[i]`` or ``x.a``, an import, a def, a for or with target, a method call
    ``x.f(...)`` as a statement, and the names passed to a function called as a statement
    (``train(net, ...)`` may change ``net``)."""
    changed: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for st in statements:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                changed.add(st.name)
                continue
            if isinstance(st, (ast.Import, ast.ImportFrom)):
                changed.update((a.asname or a.name).split(".")[0] for a in st.names)
            elif isinstance(st, ast.Assign):
                for target in st.targets:
                    _target_names(target, changed)
            elif isinstance(st, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
                _target_names(st.target, changed)
            elif isinstance(st, (ast.With, ast.AsyncWith)):
                for item in st.items:
                    if item.optional_vars is not None:
                        _target_names(item.optional_vars, changed)
            elif isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
                call = st.value
                if isinstance(call.func, ast.Attribute):
                    name = _root_name(call.func.value)
                    if name:
                        changed.add(name)
                elif isinstance(call.func, ast.Name) and call.func.id not in ("print", "display"):
                    for arg in [*call.args, *(k.value for k in call.keywords)]:
                        if isinstance(arg, ast.Name):
                            changed.add(arg.id)
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(st, field, None) or [])

    visit(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.NamedExpr):
            _target_names(node.target, changed)
    return changed


def _read_names(source: str, tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names a cell reads that another cell must have bound, builtins left out: (read now: at
    the top level before the cell binds them itself, in the order Python evaluates, an
    assignment's value before its target, or as a global in a comprehension; read when called:
    as a global in a function, lambda or class body)."""
    first_load: dict[str, int] = {}
    first_store: dict[str, int] = {}
    step = iter(range(1 << 30))
    #: fields evaluated before the rest of their node (the value before its target)
    first_fields = {
        ast.Assign: ("value",),
        ast.AnnAssign: ("value", "annotation"),
        ast.AugAssign: ("value",),
        ast.NamedExpr: ("value",),
        ast.For: ("iter",),
        ast.AsyncFor: ("iter",),
    }

    def visit(node: ast.AST) -> None:
        if isinstance(node, _SCOPES):
            # what a nested scope's header evaluates where it stands
            args = getattr(node, "args", None)
            outer = [
                *getattr(node, "decorator_list", []),
                *getattr(node, "bases", []),
                *(args.defaults if args is not None else []),
            ]
            if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                outer.append(node.generators[0].iter)
            for part in outer:
                visit(part)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first_store.setdefault(node.name, next(step))
            return
        if isinstance(node, ast.Name):
            seen = first_load if isinstance(node.ctx, ast.Load) else first_store
            seen.setdefault(node.id, next(step))
        elif isinstance(node, ast.alias):
            first_store.setdefault((node.asname or node.name).split(".")[0], next(step))
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            first_load.setdefault(node.target.id, next(step))
        early = first_fields.get(type(node), ())
        for name in early:
            value = getattr(node, name, None)
            if value is not None:
                visit(value)
        for name, value in ast.iter_fields(node):
            if name in early:
                continue
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    visit(child)

    visit(tree)
    read = {n for n, at in first_load.items() if n not in first_store or at < first_store[n]}

    later: set[str] = set()
    comprehensions = ("listcomp", "setcomp", "dictcomp", "genexpr")

    def nested(table: symtable.SymbolTable, deferred: bool) -> None:
        for child in table.get_children():
            inner = deferred or child.get_name() not in comprehensions
            for symbol in child.get_symbols():
                name = symbol.get_name()
                if symbol.is_global() and symbol.is_referenced():
                    if inner:
                        later.add(name)
                    elif name not in first_store:
                        read.add(name)
            nested(child, inner)

    nested(symtable.symtable(source, "<cell>", "exec"), False)
    return read - _BUILTINS, later - _BUILTINS


def _without_magics(source: str) -> str:
    """A cell's source with IPython's ``%`` and ``!`` lines read as ``pass``."""
    return "\n".join("pass" if _MAGIC.match(line) else line for line in source.splitlines())


def notebook_code(path: Path) -> list[tuple[int, str]]:
    """``(index, source)`` of every code cell of the notebook at ``path`` (indices count every
    cell, as JupyterLab numbers them)."""
    cells = json.loads(Path(path).read_text())["cells"]
    return [(i, "".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "code"]


def _view_names(source: str, views: tuple[str, ...]) -> set[str]:
    """The names a cell assigns a new view to (``view = SlidingKernel()``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(_without_magics(source))):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in views:
                found.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return found


def cell_names(source: str) -> tuple[set[str], set[str], set[str]]:
    """(names the cell binds or may change, names it reads now, names its functions read when
    called); IPython's ``%`` and ``!`` lines are read as ``pass``."""
    source = _without_magics(source)
    tree = ast.parse(source)
    return (_changed_names(tree), *_read_names(source, tree))


def cells_needed(path: Path, start: list[int], reads: tuple[str, ...] = ()) -> list[int]:
    """The code cells to run so that the cells ``start`` (indices counting every cell, as
    JupyterLab numbers them) see what Run All gives them: ``start`` and, for each name such a
    cell reads, the last cell above it that binds or changes that name, with what that cell
    needs in turn. A name a function reads when called is looked up above the start cell it
    serves. ``reads``: more sources run in place of the last start cell (a learner's answer),
    whose names are looked up above it as well.

    A name the slice misses shows as an error (NameError) in the browser, never as a pass."""
    code = notebook_code(path)
    names = {i: cell_names(source) for i, source in code}

    def last_binder(name: str, below: int) -> list[int]:
        return [j for j, _ in reversed(code) if j < below and name in names[j][0]][:1]

    #: cell -> the start cell it serves (the latest one): names read when called resolve there
    horizon: dict[int, int] = {}
    todo = [(i, i) for i in start]
    if reads:
        last = max(start)
        for source in reads:
            _, now, later = cell_names(source)
            todo.extend((j, last) for name in now | later for j in last_binder(name, last))
    while todo:
        i, h = todo.pop()
        if horizon.get(i, -1) >= h:
            continue
        horizon[i] = h
        _, now, later = names[i]
        todo.extend((j, h) for name in now for j in last_binder(name, i))
        todo.extend((j, h) for name in later for j in last_binder(name, h))
    return sorted(horizon)


def setup_cell(path: Path) -> int:
    """The index of the notebook's set-up cell (the code cell that calls ``use_style(``)."""
    return next(i for i, source in notebook_code(path) if "use_style(" in source)


def cells_for_views(path: Path, views: tuple[str, ...]) -> list[int]:
    """The code cells to run so that a notebook builds its views as Run All builds them
    (``cells_needed``): the set-up cell (``use_style(...)``), every cell that builds one of
    ``views`` (``Name(``), every later cell that changes a view in place
    (``view.set_controls(...)`` after ``view = Name(...)``), and what those cells read."""
    code = notebook_code(path)
    names = {i: cell_names(source) for i, source in code}
    code_of = dict(code)
    alternatives = "|".join(map(re.escape, views))
    builds = re.compile(rf"\b(?:{alternatives})\(")

    start = [i for i, source in code if "use_style(" in source or builds.search(source)]
    # a later cell that changes a view (``view.set_controls(...)``: it reads and changes the
    # name the view was assigned to, before any cell rebinds that name) sets what the view
    # shows when Run All ends
    for i in list(start):
        for name in _view_names(code_of[i], views):
            for j, _ in code:
                if j > i and name in names[j][0]:
                    if name not in names[j][1]:
                        break  # rebound: another object from here on
                    start.append(j)
    return cells_needed(path, start)


def write_notebook(name: str, cells: list[tuple[str, str]]) -> None:
    """Write a notebook of ``cells`` (``(kind, source)``: "code" or "markdown") into the
    server's copy of notebooks/, every cell a slide."""
    nb = {
        "cells": [
            {
                "cell_type": kind,
                "id": f"c{i}",
                "metadata": {"slideshow": {"slide_type": "slide"}},
                "source": source,
                **({"outputs": [], "execution_count": None} if kind == "code" else {}),
            }
            for i, (kind, source) in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (_lab().root / name).write_text(json.dumps(nb))


_RUN_CELLS_JS = """(indices) => {
  const panel = window.jupyterapp.shell.currentWidget;
  for (const i of indices) {
    panel.content.activeCellIndex = i;
    window.jupyterapp.commands.execute('notebook:run-cell');
  }
}"""


def run_cells(page: Any, indices: list[int], timeout: float = RUN_ALL_TIMEOUT_S) -> float:
    """Clear every output, then run the cells ``indices`` in order (JupyterLab's run-cell
    command, queued as Run All queues them); wait until each has a count and the kernel is
    idle, or an error stopped the queue. Returns the wall time in seconds."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    wait_until(
        lambda: all(c["count"] is None for c in code_cells(page)), what="cleared execution counts"
    )
    start = time.monotonic()
    page.evaluate(_RUN_CELLS_JS, indices)
    wanted = set(indices)

    def done() -> bool:
        cells = [c for c in code_cells(page) if c["index"] in wanted]
        ran = all(c["count"] is not None for c in cells)
        failed = any(o.get("output_type") == "error" for c in cells for o in c["outputs"])
        return (ran or failed) and kernel_status(page) == "idle"

    wait_until(done, timeout=timeout, interval=0.25, what=f"cells {indices} to run")
    page.wait_for_timeout(500)  # widget views render asynchronously after the last reply
    return time.monotonic() - start


# -- the registry-driven opening of every notebook -----------------------------------------------
def readout_text(view: Any) -> str:
    """What a view's readout says now (empty if it has none)."""
    readout = view.locator(".cnnlib-readout")
    return readout.first.inner_text() if readout.count() else ""


def readout_value(view: Any) -> str | None:
    """The ``data-value`` of the number a view's readout highlights, if it has one."""
    value = view.locator(".cnnlib-readout .cnnlib-value")
    return value.first.get_attribute("data-value") if value.count() else None


def smoke(page: Any, item: Any) -> dict:
    """Open ``item``'s notebook (a ``cnnlib.course.Lesson``), run the cells that build its
    views (``cells_for_views``: the set-up cell, each cell that builds a view of
    ``item.views``, and what those cells read) with no error and no view showing an error,
    then make its smoke move (``item.smoke``: a slider of a view moved by key presses) and
    wait for the slider, the readout and a new PNG. Returns what a notebook's own checks
    need: the ``view`` (a locator), its readout ``before`` and ``after`` the move, the
    highlighted value ``before_value`` and the ``seconds`` the cells took.

    Strict nbval runs every cell of the notebook, in its time budget and with no view left
    showing an error (the root conftest.py); here the views are driven in the browser."""
    view_class, name, steps = item.smoke
    open_notebook(page, item.file)
    seconds = run_cells(page, cells_for_views(NOTEBOOKS / item.file, item.views))
    assert not error_outputs(page), error_outputs(page)
    view = view_locator(page, view_class)
    before, before_value = readout_text(view), readout_value(view)
    src, png, value = figure_src(view), figure_png(view), slider_value(view, name)
    move_slider(view, name, steps)
    wait_for_change(lambda: slider_value(view, name), value, what=f"the {name} slider to move")
    wait_for_change(lambda: readout_text(view), before, what="the readout to follow")
    wait_for_idle(page)
    wait_for_change(lambda: figure_src(view), src, what="a new figure")
    assert figure_png(view) != png
    assert not error_outputs(page), error_outputs(page)
    after = readout_text(view)
    return {
        "view": view,
        "before": before,
        "after": after,
        "before_value": before_value,
        "seconds": seconds,
    }
