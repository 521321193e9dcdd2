"""jupyter/labextensions/cnn-course-slides: JupyterLab's own discovery finds a loadable extension.

Its behaviour (live views on slides, arrow keys kept by a focused slider) is tested in a browser
by tests/browser/test_00_index_and_rise.py.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from jupyterlab_server.config import get_federated_extensions

EXTENSIONS = Path(__file__).resolve().parents[1] / "jupyter" / "labextensions"
NAME = "cnn-course-slides"


def test_jupyterlab_discovers_the_extension():
    found = get_federated_extensions([str(EXTENSIONS)])
    assert NAME in found
    build = found[NAME]["jupyterlab"]["_build"]
    assert (EXTENSIONS / NAME / build["load"]).is_file()
    assert build["extension"] == "./extension"


def test_the_container_registers_under_its_package_name():
    source = (EXTENSIONS / NAME / "static" / "remoteEntry.js").read_text()
    assert re.search(rf'var NAME = "{NAME}";', source)
    assert "_JUPYTERLAB[NAME] = container;" in source
    # only the slideshow app lacks the real package: the stand-in must never replace it
    assert "if (scope[CONSOLE] && Object.keys(scope[CONSOLE]).length) return" in source


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_container_is_valid_javascript():
    script = EXTENSIONS / NAME / "static" / "remoteEntry.js"
    result = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_slide_text_is_as_large_as_the_lecture_figure_text():
    """The slideshow's prose and code size is the lecture style's figure text in CSS pixels
    (points at the figure's dpi), set only in the slideshow app (after init's early return,
    which leaves JupyterLab itself alone). The computed sizes on real slides are checked by
    tests/browser/test_slides_fit.py."""
    from cnnlib.plotting import LECTURE_RC

    source = (EXTENSIONS / NAME / "static" / "remoteEntry.js").read_text()
    px = int(re.search(r"var SLIDE_TEXT_PX = (\d+);", source).group(1))
    assert px == round(LECTURE_RC["font.size"] * LECTURE_RC["figure.dpi"] / 72)
    assert "--jp-content-font-size1: " in source and "--jp-code-font-size: " in source
    init = source[source.index("init: function (scope)") :]
    assert init.index("return Promise.resolve();") < init.index("slideStyle();")
