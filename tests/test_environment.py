"""pyproject.toml (ranges), constraints.txt (the exact versions behind the saved outputs),
environment.yml (Binder, conda) and the Makefile describe one environment.

pyproject's ranges are what a learner's ``pip install .`` accepts; constraints.txt pins the
versions that `make`, CI and nbval install; environment.yml pins the same ones for conda.
These tests fail when the four drift apart.
"""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent

# conda-forge names of packages whose PyPI names differ
CONDA_NAMES = {"torch": "pytorch-cpu", "matplotlib": "matplotlib-base"}
# pip-only tools that Binder does not need (browser tests, lint, parallel test runs, mutation;
# hatchling builds the wheel in pip's isolated build environment, not in the environment itself)
NOT_ON_BINDER = {
    "playwright",
    "ruff",
    "pytest-xdist",
    "nbclient",
    "nbconvert",
    "mutmut",
    "hatchling",
}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements(group: str = "runtime") -> dict[str, Requirement]:
    project = _pyproject()["project"]
    if group == "runtime":
        lines = project["dependencies"]
    else:
        lines = project["optional-dependencies"][group]
    return {canonicalize_name(r.name): r for r in map(Requirement, lines)}


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", line.strip())
            assert m, f"constraints.txt: {line!r} is not name==version"
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def _environment() -> tuple[dict[str, str], dict[str, str], str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip, python = {}, {}, ""
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                name, _, version = line.partition("==")
                assert version, f"environment.yml pip: {line!r} is not pinned with =="
                pip[canonicalize_name(name)] = version
        elif dep.startswith("python="):
            python = dep.split("=", 1)[1]
        elif dep != "pip":
            name, _, version = dep.partition("=")
            assert version, f"environment.yml: {dep!r} has no version"
            conda[name.lower()] = version
    assert env["channels"] == ["conda-forge"]
    return conda, pip, python


@pytest.mark.parametrize("group", ["runtime", "dev"])
def test_every_dependency_is_a_range_with_a_lower_bound_and_its_pin_inside(group):
    pins = _constraints()
    for name, req in _requirements(group).items():
        assert any(s.operator in (">=", "==") for s in req.specifier), f"{name}: no lower bound"
        assert name in pins, f"{name} is in pyproject.toml but not pinned in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt {name}=={pins[name]} is outside pyproject's {req.specifier}"
        )


def test_environment_yml_pins_the_constraints_versions():
    pins = _constraints()
    conda, pip, _ = _environment()
    reverse = {v: k for k, v in CONDA_NAMES.items()}
    for name, version in {**conda, **pip}.items():
        pypi_name = canonicalize_name(reverse.get(name, name))
        assert pins.get(pypi_name) == version, (
            f"environment.yml {name}={version}, constraints.txt {pins.get(pypi_name)}"
        )


def test_environment_yml_has_every_runtime_dependency_and_the_binder_test_tools():
    conda, pip, _ = _environment()
    wanted = set(_requirements("runtime")) | (set(_requirements("dev")) - NOT_ON_BINDER)
    for name in wanted:
        assert CONDA_NAMES.get(name, name) in conda or name in pip, f"{name} not in environment.yml"


def _makefile_pythons() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    return re.search(r"^SUPPORTED_PYTHONS := (.+)$", makefile, re.M).group(1).split()


def test_supported_pythons_agree():
    project = _pyproject()["project"]
    classifiers = {
        c.rsplit(" :: ", 1)[1]
        for c in project["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    }
    assert classifiers == set(_makefile_pythons())
    requires = project["requires-python"]
    assert requires == f">={min(classifiers, key=Version)}", "requires-python has no upper bound"
    _, _, python = _environment()
    assert python in classifiers, f"environment.yml python={python} is not a supported one"


def test_torch_pin_is_the_cpu_build_on_disk():
    # Any other torch version pulls a multi-GB CUDA build on the course machines.
    assert _constraints()["torch"] == "2.13.0"
    assert _environment()[0]["pytorch-cpu"] == "2.13.0"


@pytest.mark.parametrize("path", ["postBuild", ".ci/run"])
def test_scripts_are_executable(path):
    assert (ROOT / path).stat().st_mode & 0o111
