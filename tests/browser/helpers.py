"""Helpers for the browser tests (the fixtures that start JupyterLab and Chromium are in
``conftest.py``; tests import these from here, not from the conftest).

``open_notebook``, ``run_all``, ``error_outputs``, ``view_locator``, ``move_slider``,
``set_slider``, ``slider_value``, ``figure_src``, ``figure_png``, ``wait_for_change``,
``wait_until``, ``wait_for_idle``, ``screenshot``. A slider moved by several key presses
updates the kernel once per press: wait for the final readout (``wait_until``), then
``wait_for_idle`` before reading the figure.
A view is found by the CSS classes its ipywidgets box carries: ``cnnlib-view cnnlib-<Class>``;
its controls carry ``cnnlib-control-<name>``, its figure ``cnnlib-figure``, its readout
``cnnlib-readout`` and its error line ``cnnlib-message``.
"""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Callable
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
  for (const c of w.content.widgets) {
    const m = c.model;
    if (m.type !== 'code') continue;
    cells.push({count: m.executionCount, outputs: m.outputs.toJSON(),
                source: m.sharedModel.getSource()});
  }
  return cells;
}"""


def code_cells(page: Any) -> list[dict]:
    """Every code cell of the current notebook: execution count, outputs (nbformat), source."""
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


# -- the registry-driven opening of every notebook -----------------------------------------------
#: Run All in a browser on the shared test machine may take this many times a lesson's
#: quiet-machine budget (``cnnlib.course.Lesson.budget_s``, also `make bench`'s yardstick)
BROWSER_SLACK = 8.0


def readout_text(view: Any) -> str:
    """What a view's readout says now (empty if it has none)."""
    readout = view.locator(".cnnlib-readout")
    return readout.first.inner_text() if readout.count() else ""


def readout_value(view: Any) -> str | None:
    """The ``data-value`` of the number a view's readout highlights, if it has one."""
    value = view.locator(".cnnlib-readout .cnnlib-value")
    return value.first.get_attribute("data-value") if value.count() else None


def smoke(page: Any, item: Any) -> dict:
    """Open ``item``'s notebook (a ``cnnlib.course.Lesson``), Run All within its time budget
    with no error, then make its smoke move (``item.smoke``: a slider of a view moved by key
    presses) and wait for the slider, the readout and a new PNG. Returns what a notebook's own
    checks need: the ``view`` (a locator), its readout ``before`` and ``after`` the move, the
    highlighted value ``before_value`` and the Run All ``seconds``."""
    view_class, name, steps = item.smoke
    open_notebook(page, item.file)
    seconds = run_all(page)
    assert not error_outputs(page), error_outputs(page)
    limit = item.budget_s * BROWSER_SLACK
    assert seconds < limit, f"Run All of {item.file} took {seconds:.0f} s (limit {limit:.0f} s)"
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
