"""cnnlib.hosting: the Colab and Binder badges and Colab's set-up cell in every notebook."""

import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from cnnlib import hosting
from cnnlib.course import INDEX_FILE, LESSONS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [INDEX_FILE] + [lesson.file for lesson in LESSONS]


def _run_cell(monkeypatch, on_colab: bool) -> list[list[str]]:
    """Execute the Colab cell as a kernel would; returns the commands it ran (none are run)."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append((cmd, kw)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(hosting.colab_cell_source(), "<colab cell>", "exec"), {})
    assert all(kw == {"check": True} for _, kw in calls)
    return [cmd for cmd, _ in calls]


def test_the_colab_cell_does_nothing_elsewhere(monkeypatch, capsys):
    assert _run_cell(monkeypatch, on_colab=False) == []
    assert capsys.readouterr() == ("", "")


def test_on_colab_it_installs_cnnlib_without_deps_then_only_the_library_requirements(monkeypatch):
    first, second = _run_cell(monkeypatch, on_colab=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    assert first == [
        *pip,
        "--no-deps",
        f"cnnlib @ git+https://github.com/{hosting.REPOSITORY}@{hosting.BRANCH}",
    ]
    assert second[: len(pip)] == pip
    import tomllib

    runtime = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {
        canonicalize_name(Requirement(r).name): Requirement(r).specifier
        for r in runtime
        if Requirement(r).name not in {"jupyterlab", "jupyterlab-rise", "ipykernel"}
    }
    asked = {canonicalize_name(Requirement(r).name): Requirement(r).specifier for r in second[5:]}
    assert asked == wanted  # the library's own ranges: Colab's torch and numpy stay if they fit
    assert {"torch", "numpy", "ipywidgets"} <= set(asked)


@pytest.mark.parametrize("file", NOTEBOOKS)
def test_every_notebook_opens_with_its_badges_and_the_colab_cell(file):
    nb = json.loads((ROOT / "notebooks" / file).read_text())
    first_markdown = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    text = "".join(first_markdown["source"])
    colab = re.findall(r"\]\((https://colab\.research\.google\.com/github/[^)]+)\)", text)
    binder = re.findall(r"\]\((https://mybinder\.org/v2/gh/[^)]+)\)", text)
    slug = hosting.REPOSITORY
    assert colab == [f"https://colab.research.google.com/github/{slug}/blob/main/notebooks/{file}"]
    assert binder == [f"https://mybinder.org/v2/gh/{slug}/HEAD?urlpath=lab/tree/notebooks/{file}"]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "".join(code[0]["source"]) == hosting.colab_cell_source()
    assert code[0]["metadata"]["tags"] == [hosting.COLAB_TAG]
    assert code[0]["metadata"]["slideshow"]["slide_type"] == "skip"
    assert code[0]["outputs"] == []
    tagged = [c for c in nb["cells"] if hosting.COLAB_TAG in c["metadata"].get("tags", [])]
    assert len(tagged) == 1


def test_the_readme_and_the_notebooks_point_at_one_repository():
    readme = (ROOT / "README.md").read_text()
    slugs = set(re.findall(r"mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/", readme))
    slugs |= set(re.findall(r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/", readme))
    assert slugs == {hosting.REPOSITORY}
    for file in NOTEBOOKS:
        assert hosting.colab_url(file) in readme, f"README has no Colab link for {file}"


def test_write_launchers_is_idempotent_and_adds_what_is_missing(tmp_path):
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# 09 · Title\n", "\n", "Text"]},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
             "source": ["import numpy"]},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    path = tmp_path / "09_new.ipynb"
    path.write_text(json.dumps(nb))
    assert hosting.write_launchers(path) is True
    once = path.read_text()
    assert hosting.write_launchers(path) is False
    assert path.read_text() == once
    cells = json.loads(once)["cells"]
    assert "".join(cells[0]["source"]) == (
        "# 09 · Title\n\n" + hosting.badges_markdown("09_new.ipynb") + "\n\nText"
    )
    assert [c["cell_type"] for c in cells] == ["markdown", "code", "code"]
    assert "".join(cells[2]["source"]) == "import numpy"
