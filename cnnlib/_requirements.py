"""At import, refuse a package older than the lowest version cnnlib is tested with.

The lower bounds are read from cnnlib's own installed metadata (pyproject.toml's
``dependencies``), so they are written once. Where cnnlib was installed with ``--no-deps``
(Colab keeps its own torch and numpy), pip checked nothing: this check names the package
that is too old and the one command that fixes it, instead of a puzzling error later.
Packages the notebooks' environment needs but cnnlib never imports (JupyterLab, the kernel,
the slides) are not checked: Colab has its own front end.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

#: installed with the course for JupyterLab, never imported by cnnlib
NOT_IMPORTED = frozenset({"jupyterlab", "jupyterlab-rise", "ipykernel"})

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)(;.*)?$")


def _release(version: str) -> tuple[int, ...]:
    """The release numbers of a PEP 440 version: ``"2.13.0+cpu"`` -> ``(2, 13, 0)``."""
    match = re.match(r"^\s*v?(\d+(?:\.\d+)*)", version)
    if not match:
        raise ValueError(f"version {version!r} does not start with a release number")
    return tuple(int(part) for part in match.group(1).split("."))


def _at_least(installed: str, minimum: str) -> bool:
    """Whether ``installed >= minimum``, comparing release numbers (2.1 == 2.1.0)."""
    a, b = _release(installed), _release(minimum)
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) >= b + (0,) * (width - len(b))


def minimum_versions(requirements: list[str] | None = None) -> dict[str, str]:
    """``{package: lowest version}`` from requirement strings such as ``"numpy>=2.1,<3"``.

    Reads cnnlib's installed metadata when ``requirements`` is None; requirements behind an
    environment marker (the ``dev`` extra) and packages in ``NOT_IMPORTED`` are left out.
    """
    if requirements is None:
        try:
            requirements = metadata.requires("cnnlib") or []
        except metadata.PackageNotFoundError:  # a source checkout that was never installed
            return {}
    found = {}
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        if not match or match.group(4):
            continue
        name = match.group(1).lower().replace("_", "-")
        lower = re.search(r">=\s*([^,\s]+)", match.group(3))
        if lower and name not in NOT_IMPORTED:
            found[name] = lower.group(1)
    return found


def too_old(minimums: dict[str, str] | None = None) -> list[str]:
    """One message per installed package below its minimum, with the command that fixes it."""
    minimums = minimum_versions() if minimums is None else minimums
    problems = []
    for name, minimum in minimums.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is not None and _at_least(installed, minimum):
            continue
        have = f"{name} {installed} is installed" if installed else f"{name} is not installed"
        problems.append(
            f"{have}; the course needs {name}>={minimum}. Fix: "
            f'{sys.executable} -m pip install --upgrade "{name}>={minimum}"'
        )
    return problems


def check() -> None:
    """Raise ``ImportError`` listing every package that is missing or older than its minimum."""
    problems = too_old()
    if problems:
        raise ImportError("cnnlib cannot start:\n- " + "\n- ".join(problems))
