"""environment.yml (Binder, conda) and pyproject.toml (pip, make) describe one environment.

The pip pins are the source of truth; these tests fail when the two drift apart.
"""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

# conda-forge names of packages whose PyPI names differ
CONDA_NAMES = {"torch": "pytorch-cpu"}
# pip-only tools that Binder does not need (browser tests, lint, parallel test runs)
NOT_ON_BINDER = {"playwright", "ruff", "pytest-xdist", "nbclient", "nbconvert"}


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for req in requirements:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*==\s*([A-Za-z0-9_.+\-]+)", req.strip())
        assert m, f"pyproject.toml: {req!r} is not pinned with =="
        pins[m.group(1).lower()] = m.group(2)
    return pins


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment() -> tuple[dict[str, str], dict[str, str], str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip, python = {}, {}, ""
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.update(_pins(dep["pip"]))
        elif dep.startswith("python="):
            python = dep.split("=", 1)[1]
        elif dep != "pip":
            name, _, version = dep.partition("=")
            assert version, f"environment.yml: {dep!r} has no version"
            conda[name.lower()] = version
    assert "conda-forge" in env["channels"]
    return conda, pip, python


def test_runtime_pins_match_environment_yml():
    runtime = _pins(_pyproject()["project"]["dependencies"])
    conda, pip, _ = _environment()
    for name, version in runtime.items():
        conda_name = CONDA_NAMES.get(name, name)
        if conda_name in conda:
            assert conda[conda_name] == version, f"{name}: pip {version}, conda {conda[conda_name]}"
        else:
            assert pip.get(name) == version, f"{name}=={version} missing from environment.yml"


def test_environment_yml_has_nothing_the_pins_lack():
    project = _pyproject()["project"]
    pinned = _pins(project["dependencies"]) | _pins(project["optional-dependencies"]["dev"])
    conda, pip, _ = _environment()
    reverse = {v: k for k, v in CONDA_NAMES.items()}
    for name, version in {**conda, **pip}.items():
        pypi_name = reverse.get(name, name)
        assert pinned.get(pypi_name) == version, f"environment.yml {name}={version} not pinned"


def test_test_tools_for_binder_match():
    dev = _pins(_pyproject()["project"]["optional-dependencies"]["dev"])
    _, pip, _ = _environment()
    for name, version in dev.items():
        if name not in NOT_ON_BINDER:
            assert pip.get(name) == version, f"{name}=={version} missing from environment.yml pip"


def test_python_version_matches():
    _, _, python = _environment()
    requires = _pyproject()["project"]["requires-python"]
    major_minor = tuple(int(p) for p in python.split(".")[:2])
    low = tuple(int(p) for p in re.search(r">=\s*([\d.]+)", requires).group(1).split(".")[:2])
    high = tuple(int(p) for p in re.search(r"<\s*([\d.]+)", requires).group(1).split(".")[:2])
    assert low <= major_minor < high


def test_torch_pin_is_the_cpu_build_on_disk():
    # Any other torch version pulls a multi-GB CUDA build on the course machines.
    assert _pins(_pyproject()["project"]["dependencies"])["torch"] == "2.13.0"


@pytest.mark.parametrize("path", ["postBuild", ".ci/run"])
def test_scripts_are_executable(path):
    assert (ROOT / path).stat().st_mode & 0o111
