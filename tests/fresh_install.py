"""Fresh environments for the install tests: cnnlib from its wheel, nothing from the checkout.

A fresh virtual environment borrows the Python packages of the environment running the tests
(a ``.pth`` line to its site-packages) instead of downloading JupyterLab and torch again, and
``link_jupyter_data`` links the files other packages install under ``share/jupyter``
(JupyterLab's own pages, jupyterlab-rise, ipywidgets' manager, the kernel spec), as ``pip``
would have put them. cnnlib itself, its slides extension and its lab settings come only from the
wheel being tested: a ``.pth`` in a borrowed directory is not read, so the checkout's editable
install stays invisible.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without anything that points Jupyter, Python or pip elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV", "PIP_"))
    }
    return {**env, "PIP_NO_BUILD_ISOLATION": "0", **extra}  # "0" turns isolation off (offline)


def run(cmd, cwd, env=None) -> subprocess.CompletedProcess:
    """Run ``cmd``; a failure shows its output."""
    result = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env or clean_env(), capture_output=True, text=True
    )
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result


def build_wheel(out: Path) -> Path:
    """``pip wheel`` of the checkout into ``out`` (offline: the build backend is installed)."""
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, ROOT], cwd=out)
    (built,) = out.glob("cnnlib-*.whl")
    return built


def fresh_venv(path: Path) -> Path:
    """A new virtual environment that sees this one's packages; returns its python."""
    venv.create(path, with_pip=False)
    python = path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], path)
    Path(site.stdout.strip(), "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def link_jupyter_data(prefix: Path) -> int:
    """Hard-link (or copy) every borrowed package's Jupyter files (``share/jupyter``: pages,
    lab extensions, kernel spec; ``etc/jupyter``: server extensions enabled), except cnnlib's,
    under ``prefix``; returns how many. (Not symlinks: the server refuses a static file whose
    real path leaves its static directory.)"""
    purelib = Path(sysconfig.get_paths()["purelib"])
    here = Path(sys.prefix).resolve()
    jupyter_dirs = [here / "share" / "jupyter", here / "etc" / "jupyter"]
    linked = 0
    for dist in importlib.metadata.distributions():
        if dist.metadata["Name"] == "cnnlib":
            continue
        for file in dist.files or []:
            source = (purelib / file).resolve()
            if not any(source.is_relative_to(d) for d in jupyter_dirs):
                continue
            target = prefix / source.relative_to(here)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(source, target)
                except OSError:  # another file system
                    shutil.copy2(source, target)
                linked += 1
    return linked


def wheel_environment(path: Path) -> Path:
    """A fresh environment with cnnlib installed from its wheel (``pip install --no-deps``) and
    the other packages' Jupyter data; returns its python."""
    wheel = build_wheel(_mkdir(path / "wheel"))
    python = fresh_venv(path / "venv")
    run([python, "-m", "pip", "install", "--no-deps", "--quiet", wheel], cwd=path)
    link_jupyter_data(path / "venv")
    return python


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
