"""Browser tests: JupyterLab from this .venv, driven by Debian's Chromium through Playwright.

Fixtures (one JupyterLab server and one browser per test session)
- ``lab`` (session): a JupyterLab server on a free localhost port, serving a *copy* of
  ``notebooks/`` in a temporary directory (running cells never touches the committed files),
  with a generated token, isolated user settings (no news or update toasts, every cell attached
  to the DOM) and ``window.jupyterapp`` exposed so tests can run JupyterLab commands.
- ``browser`` (session): headless Chromium from ``/usr/bin/chromium``; missing means a failure
  with a clear message, never a silent skip (``make chromium`` installs it).
- ``page`` (per test): a fresh browser context and page (``helpers.new_page``), closed
  afterwards with the kernels its notebooks started.

The helpers the tests call live in ``helpers.py`` (pytest advises against importing from a
conftest).
"""

from __future__ import annotations

import contextlib
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fresh_install import wheel_environment

from . import helpers
from .helpers import NOTEBOOKS, REPO, Lab, new_page, set_lab

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 90.0

#: user settings for the test server: no toasts over the notebook, every cell in the DOM
USER_SETTINGS = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_user_settings(settings_dir: Path, course: bool = True) -> None:
    """The test settings, and with ``course`` the course's lab settings (what `pip install`
    puts in overrides.d)."""
    course_settings = REPO / "jupyter" / "lab" / "settings" / "overrides.d" / "cnn-course.json"
    settings = json.loads(course_settings.read_text()) if course else {}
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


@contextlib.contextmanager
def running_lab(
    base: Path, python: Path | str = sys.executable, *, from_checkout: bool = True
) -> Iterator[Lab]:
    """JupyterLab run by ``python`` on a copy of notebooks/ under ``base``, stopped on exit.

    ``from_checkout``: the kernel imports cnnlib from this checkout and the course's lab settings
    are written into the user settings; otherwise both must come from ``python``'s environment
    (an install from the wheel), and only the test settings are written.
    """
    root = base / "notebooks"
    shutil.copytree(
        NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
    settings_dir = base / "user-settings"
    _write_user_settings(settings_dir, course=from_checkout)
    (base / "workspaces").mkdir()
    port = _free_port()
    token = secrets.token_hex(24)
    env = {k: v for k, v in os.environ.items() if from_checkout or not k.startswith("PYTHON")}
    # The kernel must use the inline backend (MPLBACKEND=Agg from `make test` would leak into it).
    env.pop("MPLBACKEND", None)
    env["JUPYTER_RUNTIME_DIR"] = str(base / "runtime")
    env["JUPYTER_CONFIG_DIR"] = str(base / "config")
    if from_checkout:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    else:
        env.pop("VIRTUAL_ENV", None)
        env["HOME"] = str(base / "home")  # no user-level extensions or settings
        (base / "home").mkdir()
    log = base / "server.log"
    cmd = [
        str(python),
        "-m",
        "jupyterlab",  # not `jupyter lab`: a fresh environment has no jupyter-lab script
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
    try:
        yield Lab(url=url, token=token, root=root, process=process, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """Start JupyterLab from this .venv on a copy of notebooks/; shut it down after the session."""
    with running_lab(tmp_path_factory.mktemp("jupyterlab")) as running:
        set_lab(running)
        try:
            yield running
        finally:
            set_lab(None)


@pytest.fixture(scope="module")
def wheel_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab from a fresh environment where cnnlib, its slides extension and its lab
    settings come only from the wheel (what `pip install .` without make gives)."""
    base = tmp_path_factory.mktemp("wheel-install")
    python = wheel_environment(base)
    with running_lab(base / "lab", python, from_checkout=False) as running:
        yield running


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
    """A fresh page on the checkout's JupyterLab (``lab``), closed after the test."""
    with new_page(browser) as pg:
        yield pg


@pytest.fixture
def wheel_page(wheel_lab: Lab, browser: Any) -> Iterator[Any]:
    """A fresh page on ``wheel_lab``: the helpers talk to that server during the test."""
    previous = helpers.current_lab()
    set_lab(wheel_lab)
    try:
        with new_page(browser) as pg:
            yield pg
    finally:
        set_lab(previous)
