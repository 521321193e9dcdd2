"""Where the notebooks open besides a local JupyterLab: Binder and Colab links, Colab's set-up cell.

Every notebook carries, under its title, an "Open in Colab" and a Binder badge for itself, and
as its first code cell ``colab_cell_source()``: on Colab it installs ``cnnlib`` from the
repository without its dependencies (Colab's own torch and numpy stay), then only what Colab
lacks or has too old; anywhere else it does nothing. ``python -m cnnlib.hosting`` writes both
into every notebook of the course; a test checks that they are there and up to date.
"""

from __future__ import annotations

import json
from pathlib import Path

from cnnlib._requirements import NOT_IMPORTED
from cnnlib.course import save_notebook

#: the GitHub repository (owner/name) the badges point at; in a fork, change it here and run
#: ``python -m cnnlib.hosting`` (the README's links use the same slug)
REPOSITORY = "cnn-course/cnn-notebooks"
BRANCH = "main"
COLAB_TAG = "colab"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"


def colab_url(file: str) -> str:
    """The address that opens ``notebooks/<file>`` of the repository in Google Colab."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/notebooks/{file}"


def binder_url(file: str) -> str:
    """The address that opens ``notebooks/<file>`` in JupyterLab on mybinder.org."""
    return f"https://mybinder.org/v2/gh/{REPOSITORY}/HEAD?urlpath=lab/tree/notebooks/{file}"


def badges_markdown(file: str) -> str:
    """The two badges of notebook ``file``, as one Markdown line."""
    return (
        f"[![Open in Colab]({COLAB_BADGE})]({colab_url(file)}) "
        f"[![Binder]({BINDER_BADGE})]({binder_url(file)})"
    )


def colab_cell_source() -> str:
    """The first code cell of every notebook: Colab's set-up, a no-op anywhere else."""
    skip = ", ".join(f'"{name}"' for name in sorted(NOT_IMPORTED))
    return f"""# On Google Colab only: install the course's library (elsewhere this does nothing).
import sys

if "google.colab" in sys.modules:
    import subprocess
    from importlib import metadata

    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    # without its dependencies, so that Colab's own torch, numpy, ... stay as they are
    source = "cnnlib @ git+https://github.com/{REPOSITORY}@{BRANCH}"
    subprocess.run([*pip, "--no-deps", source], check=True)
    # then what Colab lacks or has too old (pip leaves a package that already fits alone);
    # JupyterLab and its slides are not needed: Colab has its own front end
    front_end = ({skip})
    needed = [
        r
        for r in metadata.requires("cnnlib")
        if "extra ==" not in r and not r.startswith(front_end)
    ]
    subprocess.run([*pip, *needed], check=True)"""


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def write_launchers(path: str | Path) -> bool:
    """Put the badges under the first heading and the Colab cell first among the code cells.

    Idempotent: an existing badge line and Colab cell (tagged ``COLAB_TAG``) are replaced, not
    repeated. Returns whether the file changed.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    cells = nb["cells"]
    top = next(c for c in cells if c["cell_type"] == "markdown")
    lines = [line for line in "".join(top["source"]).split("\n") if "colab-badge.svg" not in line]
    heading = next(i for i, line in enumerate(lines) if line.startswith("# "))
    lines.insert(heading + 1, "")
    lines.insert(heading + 2, badges_markdown(path.name))
    if heading + 3 < len(lines) and lines[heading + 3] != "":
        lines.insert(heading + 3, "")
    while heading + 4 < len(lines) and lines[heading + 3] == lines[heading + 4] == "":
        del lines[heading + 4]
    top["source"] = _lines("\n".join(lines))
    source = _lines(colab_cell_source())
    cell = next((c for c in cells if COLAB_TAG in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        cell = {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {"slideshow": {"slide_type": "skip"}, "tags": [COLAB_TAG]},
            "outputs": [],
            "source": source,
        }
        first_code = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
        cells.insert(first_code, cell)
    elif cell["source"] != source:
        cell["source"] = source
        cell["execution_count"] = None
        cell["outputs"] = []
    return save_notebook(path, nb, text)


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    root = Path(__file__).resolve().parents[1] / "notebooks"
    for notebook in sorted(root.glob("*.ipynb")):
        if write_launchers(notebook):
            print("updated", notebook.name)
