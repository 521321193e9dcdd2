"""Accessibility rules that hold across the course: colour-blind-safe colormaps, alt text."""

import re
from pathlib import Path

import matplotlib as mpl
import nbformat
import pytest

from cnnlib import plotting

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCES = sorted((ROOT / "cnnlib").rglob("*.py"))

# perceptually uniform or grey maps, readable with the common colour-vision deficiencies
SAFE_CMAPS = {"cividis", "viridis", "gray", "Greys", "gray_r", "Greys_r", "PuOr", "PuOr_r"}
CMAP_LITERAL = re.compile(r"""cmap\s*=\s*["']([A-Za-z0-9_]+)["']""")
CMAP_CALL = re.compile(r"""(?:get_cmap|colormaps\[)\(?\s*["']([A-Za-z0-9_]+)["']""")


def _code_texts():
    for path in SOURCES:
        yield path.name, path.read_text()
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                yield path.name, cell.source


def test_the_shared_colormaps_are_colour_blind_safe():
    assert {plotting.SEQUENTIAL, plotting.DIVERGING} <= SAFE_CMAPS
    for name in SAFE_CMAPS:
        assert name in mpl.colormaps


def test_every_named_colormap_in_code_and_notebooks_is_safe():
    used = {
        (where, name)
        for where, text in _code_texts()
        for pattern in (CMAP_LITERAL, CMAP_CALL)
        for name in pattern.findall(text)
    }
    unsafe = sorted((w, n) for w, n in used if n not in SAFE_CMAPS)
    assert not unsafe, f"colormaps that are not colour-blind safe: {unsafe}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_static_images_in_markdown_have_alt_text(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for alt in re.findall(r"!\[([^\]]*)\]\(", cell.source):
            assert alt.strip(), f"{path.name}: a markdown image has no alt text"
        for tag in re.findall(r"<img\b[^>]*>", cell.source):
            assert re.search(r'alt="[^"]+"', tag), f"{path.name}: <img> without alt text"
