"""The course installs without make: from the wheel, on Binder (postBuild), and make's own
choice of Python.

The fresh environments here borrow the packages of the environment running the tests (a ``.pth``
line to its site-packages) instead of downloading JupyterLab and torch again; cnnlib itself, its
slides extension and its lab settings come only from what is being tested.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from fresh_install import build_wheel, clean_env, fresh_venv, run

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = "share/jupyter/labextensions/cnn-course-slides"
SETTINGS = "share/jupyter/lab/settings/overrides.d/cnn-course.json"
SOURCE_SETTINGS = ROOT / "jupyter" / "lab" / "settings" / "overrides.d" / "cnn-course.json"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_carries_the_extension_and_the_settings(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    data = {n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n}
    assert data == {
        f"{EXTENSION}/package.json",
        f"{EXTENSION}/static/remoteEntry.js",
        SETTINGS,
    }
    assert "cnnlib/__init__.py" in names and "cnnlib/widgets/__init__.py" in names


def test_pip_install_of_the_wheel_gives_jupyterlab_the_extension_and_the_settings(wheel, tmp_path):
    python = fresh_venv(tmp_path / "fresh")
    run([python, "-m", "pip", "install", "--no-deps", "--quiet", wheel], cwd=tmp_path)
    prefix = Path(run([python, "-c", "import sys; print(sys.prefix)"], tmp_path).stdout.strip())
    env = clean_env(HOME=str(tmp_path / "home"))  # no user-level extensions or settings
    where = run([python, "-c", "import cnnlib; print(cnnlib.__file__)"], tmp_path, env).stdout
    assert Path(where.strip()).is_relative_to(prefix), "cnnlib was not imported from the wheel"
    # `jupyter labextension list` and `jupyter lab path`, run by the new environment's python
    listed = run([python, "-m", "jupyterlab.labextensions", "list"], tmp_path, env)
    text = listed.stdout + listed.stderr
    section = text.split(str(prefix / "share" / "jupyter" / "labextensions"), 1)
    assert len(section) == 2, f"no extensions listed under the new environment:\n{text}"
    assert "cnn-course-slides v0.1.0" in section[1].split("\n\n")[0]
    assert "enabled" in section[1] and "OK" in section[1]
    paths = run([python, "-m", "jupyterlab", "path"], tmp_path, env).stdout
    app_dir = Path(paths.split("Application directory:", 1)[1].split("\n")[0].strip())
    installed = app_dir / "settings" / "overrides.d" / "cnn-course.json"
    assert json.loads(installed.read_text()) == json.loads(SOURCE_SETTINGS.read_text())
    assert installed.is_relative_to(prefix)


def test_postbuild_installs_under_nb_python_prefix(tmp_path):
    """Binder: repo2docker's environment lives at ${NB_PYTHON_PREFIX}, not ${CONDA_DIR}."""
    prefix = tmp_path / "srv" / "conda" / "envs" / "notebook"
    fresh_venv(prefix)
    conda_dir = tmp_path / "srv" / "conda"
    env = clean_env(NB_PYTHON_PREFIX=str(prefix), CONDA_DIR=str(conda_dir))
    result = run(["bash", ROOT / "postBuild"], cwd=tmp_path, env=env)
    assert f"are in {prefix}" in result.stdout
    assert (prefix / EXTENSION / "package.json").is_file()
    assert json.loads((prefix / SETTINGS).read_text()) == json.loads(SOURCE_SETTINGS.read_text())
    assert not (conda_dir / "share").exists()  # nothing where Binder's Jupyter does not look


# -- make's choice of Python ------------------------------------------------------------------


def _fake_python(bindir: Path, name: str, version: str) -> None:
    """An interpreter that answers the Makefile's version question with ``version``."""
    path = bindir / name
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)


def _make(tmp_path: Path, pythons: dict[str, str], *args: str, venv_version: str | None = None):
    work = tmp_path / "repo"
    work.mkdir(parents=True)
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, work / name)
    bindir = tmp_path / "bin"
    bindir.mkdir(parents=True)
    for name, version in pythons.items():
        _fake_python(bindir, name, version)
    if venv_version:
        (work / ".venv" / "bin").mkdir(parents=True)
        _fake_python(work / ".venv" / "bin", "python", venv_version)
    make = shutil.which("make")
    # only the fake interpreters on PATH (this machine's /usr/bin has a python3.11 of its own);
    # the recipes that run here use shell built-ins only
    env = {**clean_env(), "PATH": str(bindir)}
    return subprocess.run(
        [make, "--no-print-directory", *args], cwd=work, env=env, capture_output=True, text=True
    ), work


needs_make = pytest.mark.skipif(
    shutil.which("make") is None or os.name == "nt", reason="make and sh are POSIX tools"
)


@needs_make
def test_make_refuses_an_unsupported_python3_in_one_line_and_makes_no_venv(tmp_path):
    result, work = _make(tmp_path, {"python3": "3.14"}, "venv")
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if line.startswith("make: ")]
    assert len(lines) == 1, result.stdout
    assert "no supported Python (3.11, 3.12 or 3.13)" in lines[0]
    assert "and python3 is 3.14" in lines[0]
    assert "make venv PYTHON=/path/to/python3.13" in lines[0]
    assert not (work / ".venv").exists()


@needs_make
def test_make_with_no_python_at_all_says_so(tmp_path):
    result, work = _make(tmp_path, {}, "lab")
    assert result.returncode != 0
    assert "no python3.13, python3.12 or python3.11 on PATH and python3 is missing" in result.stdout
    assert "make lab PYTHON=" in result.stdout
    assert not (work / ".venv").exists()


@pytest.mark.parametrize(
    ("pythons", "chosen"),
    [
        (
            {"python3.11": "3.11", "python3.13": "3.13", "python3": "3.11"},
            "python3.13 (Python 3.13)",
        ),
        ({"python3.12": "3.12", "python3": "3.14"}, "python3.12 (Python 3.12)"),
        ({"python3": "3.12"}, "python3 (Python 3.12)"),
        ({"python3.13": "3.14", "python3.11": "3.11"}, "python3.11 (Python 3.11)"),
    ],
)
@needs_make
def test_make_picks_the_newest_supported_python_and_says_which(tmp_path, pythons, chosen):
    result, _ = _make(tmp_path, pythons, "-n", "venv")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"make: setting up .venv with {chosen}" in result.stdout


@needs_make
def test_a_venv_of_another_python_is_rebuilt_not_half_used(tmp_path):
    result, _ = _make(tmp_path, {"python3.13": "3.13"}, "-n", "venv", venv_version="3.11")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "make: .venv was made by Python 3.11, not 3.13: rebuilding it" in result.stdout
    assert "rm -rf .venv" in result.stdout
    same, _ = _make(tmp_path / "again", {"python3.13": "3.13"}, "-n", "venv", venv_version="3.13")
    assert "rebuilding" not in same.stdout


@needs_make
def test_an_explicit_python_that_does_not_run_is_named(tmp_path):
    result, work = _make(tmp_path, {"python3.13": "3.13"}, "venv", "PYTHON=python3.99")
    assert result.returncode != 0
    assert "python3.99 is not runnable" in result.stdout
    assert not (work / ".venv").exists()
