"""cnnlib._requirements: a too-old package is named at import, with the command that fixes it."""

import subprocess
import sys
from importlib import metadata

import pytest

from cnnlib import _requirements


def test_minimum_versions_reads_lower_bounds_and_skips_extras_and_front_end_packages():
    found = _requirements.minimum_versions(
        [
            "numpy>=2.1,<3",
            "Scikit_Learn >= 1.5",
            "torch<3,>=2.13",
            "jupyterlab>=4.6.6,<5",
            "tqdm",
            'pytest>=9.2; extra == "dev"',
        ]
    )
    assert found == {"numpy": "2.1", "scikit-learn": "1.5", "torch": "2.13"}


def test_the_installed_metadata_gives_the_pyproject_lower_bounds():
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    assert _requirements.minimum_versions() == _requirements.minimum_versions(deps)
    assert {"numpy", "torch", "matplotlib", "ipywidgets"} <= set(_requirements.minimum_versions())


@pytest.mark.parametrize(
    ("installed", "minimum", "ok"),
    [
        ("2.13.0+cpu", "2.13", True),
        ("2.12.9", "2.13", False),
        ("2.1", "2.1.0", True),
        ("10.4.0", "9.9", True),  # numbers, not strings: "10" > "9"
        ("2.0.2", "2.1", False),
        ("8.1.5", "8.1.5", True),
    ],
)
def test_version_comparison(installed, minimum, ok):
    assert _requirements._at_least(installed, minimum) is ok


def test_a_too_old_or_missing_package_is_named_with_the_fix(monkeypatch):
    installed = {"numpy": "1.26.4", "torch": "2.13.0+cpu"}

    def version(name):
        if name not in installed:
            raise metadata.PackageNotFoundError(name)
        return installed[name]

    monkeypatch.setattr(metadata, "version", version)
    problems = _requirements.too_old({"numpy": "2.1", "torch": "2.13", "tqdm": "4.66"})
    assert len(problems) == 2
    numpy_line, tqdm_line = problems
    assert "numpy 1.26.4 is installed; the course needs numpy>=2.1" in numpy_line
    assert f'{sys.executable} -m pip install --upgrade "numpy>=2.1"' in numpy_line
    assert "tqdm is not installed" in tqdm_line
    monkeypatch.setattr(_requirements, "minimum_versions", lambda: {"numpy": "2.1"})
    with pytest.raises(ImportError, match=r"numpy 1\.26\.4 is installed"):
        _requirements.check()


def test_this_environment_passes_and_import_refuses_an_old_numpy(tmp_path):
    assert _requirements.too_old() == []
    # a real import, in a fresh interpreter, with numpy's metadata claiming an old version
    script = (
        "from importlib import metadata\n"
        "real = metadata.version\n"
        "metadata.version = lambda n: '2.0.2' if n == 'numpy' else real(n)\n"
        "import cnnlib\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    assert "ImportError: cnnlib cannot start" in result.stderr
    assert 'pip install --upgrade "numpy>=2.1"' in result.stderr
