"""Browser tests: JupyterLab from this .venv, driven by Debian's Chromium through Playwright.

Fixtures
- ``lab`` (session): a JupyterLab server on a free localhost port, serving a *copy* of
  ``notebooks/`` in a temporary directory (running cells never touches the committed files),
  with a generated token, isolated user settings (no news or update toasts, every cell attached
  to the DOM) and ``window.jupyterapp`` exposed so tests can run JupyterLab commands.
- ``browser`` (session): headless Chromium from ``/usr/bin/chromium``; missing means a failure
  with a clear message, never a silent skip (``make chromium`` installs it).
- ``page`` (per test): a fresh browser context and page, closed afterwards.

Helpers for the notebook tests (``from .conftest import open_notebook, run_all, ...``):
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
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
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
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: generous: the machine is small and shared; a notebook must still finish in well under this
RUN_ALL_TIMEOUT_S = 240.0
SERVER_START_TIMEOUT_S = 90.0

#: user settings for the test server: no toasts over the notebook, every cell in the DOM
USER_SETTINGS = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_user_settings(settings_dir: Path) -> None:
    """The course's lab settings (what `pip install` puts in overrides.d) plus test settings."""
    course_settings = REPO / "jupyter" / "lab" / "settings" / "overrides.d" / "cnn-course.json"
    settings = json.loads(course_settings.read_text())
    settings.setdefault("@jupyterlab/apputils-extension:notification", {})
    settings["@jupyterlab/apputils-extension:notification"]["doNotDisturbMode"] = True
    settings.update(USER_SETTINGS)
    for plugin_id, values in settings.items():
        package, plugin = plugin_id.split(":")
        path = settings_dir / package / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))


def _log_tail(log: Path, n: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """Start JupyterLab on a copy of notebooks/; shut it down after the session."""
    global _LAB
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    shutil.copytree(
        NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
    settings_dir = base / "user-settings"
    _write_user_settings(settings_dir)
    (base / "workspaces").mkdir()
    port = _free_port()
    token = secrets.token_hex(24)
    env = dict(os.environ)
    # The kernel must use the inline backend (MPLBACKEND=Agg from `make test` would leak into it).
    env.pop("MPLBACKEND", None)
    env["JUPYTER_RUNTIME_DIR"] = str(base / "runtime")
    env["JUPYTER_CONFIG_DIR"] = str(base / "config")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    log = base / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--ServerApp.terminals_enabled=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI runners
        cmd.append("--allow-root")
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {process.returncode}:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"JupyterLab did not answer /api/status in time:\n{_log_tail(log)}")
        time.sleep(0.3)
    _LAB = Lab(url=url, token=token, root=root, process=process, log=log)
    try:
        yield _LAB
    finally:
        _LAB = None
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium; fails (not skips) when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(`make chromium` installs it; Playwright's own download cannot work offline)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(lab: Lab, browser: Any) -> Iterator[Any]:
    """A fresh page (own context: cookies, storage) at 1400 x 1000, closed after the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    pg = context.new_page()
    pg.console_errors = []  # for debugging a failing test
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    try:
        yield pg
    finally:
        context.close()


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
