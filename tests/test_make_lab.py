"""The README's `make lab` for real: it starts JupyterLab on notebooks/, behind a token,
with the course's extensions, also when run as root (containers, fresh cloud machines)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int | None, str]:
    """``(HTTP status, body)``; status ``None`` while nothing answers on the port yet (the
    server prints its address a moment before it accepts connections)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, ""
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None, ""


@pytest.fixture(scope="module")
def make_lab(tmp_path_factory):
    """``make lab`` on a free port; yields ``(base_url, token, log_text)``."""
    port = _free_port()
    base = tmp_path_factory.mktemp("make-lab")
    log = base / "make-lab.log"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(base / "runtime"))
    args = f"--no-browser --ServerApp.port={port} --ServerApp.port_retries=0"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            # -o: the .venv this test runs in is set up; never reinstall it under running tests
            ["make", "--no-print-directory", "-o", ".venv/.installed", "lab", f"LAB_ARGS={args}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make and jupyter in one process group, stopped together
        )
    pattern = re.compile(rf"http://127\.0\.0\.1:{port}/lab\?token=([0-9a-f]+)")
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while not (match := pattern.search(log.read_text(errors="replace"))):
            if process.poll() is not None:
                pytest.fail(f"make lab exited with {process.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"make lab printed no address in time:\n{log.read_text()}")
            time.sleep(0.3)
        url, token = f"http://127.0.0.1:{port}", match.group(1)
        while _get(f"{url}/api/status?token={token}")[0] != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer on port {port}:\n{log.read_text()}")
            time.sleep(0.3)
        yield url, token, log.read_text(errors="replace")
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    """Stop make and the jupyter server it started (the whole process group)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # already gone
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def test_make_lab_serves_the_notebooks_folder(make_lab):
    url, token, _ = make_lab
    status, body = _get(f"{url}/api/contents?token={token}")
    assert status == 200
    listed = set(re.findall(r'"name": ?"([^"]+\.ipynb)"', body))
    assert listed == {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}


def test_make_lab_requires_the_token(make_lab):
    url, token, _ = make_lab
    assert _get(f"{url}/api/contents")[0] in (401, 403)
    assert _get(f"{url}/api/contents?token={'0' * len(token)}")[0] in (401, 403)


def test_make_lab_loads_the_course_extensions(make_lab):
    url, token, _ = make_lab
    status, page = _get(f"{url}/lab?token={token}")
    assert status == 200
    extensions = ("jupyterlab-rise", "cnn-course-slides", "@jupyter-widgets/jupyterlab-manager")
    for extension in extensions:
        assert f'"name": "{extension}"' in page or f'"name":"{extension}"' in page, extension
