"""The views' fast drawing, by concern: ``_blit`` (the ``BlitView`` base class, redrawing only
what changed), ``_cells`` (images by index lookup, grid lines, cell labels, veils, meshes) and
``_text`` (text pasted from cached bitmaps). This module re-exports them under their old names
for the views that still import from here (``activations``, ``saliency``).
"""

from __future__ import annotations

from cnnlib.widgets._blit import BlitView
from cnnlib.widgets._cells import (
    PAD_COLOR,
    VEIL_COLOR,
    PixelImage,
    cell_grid,
    cell_mesh,
    fit_fontsize,
    imshow,
    make_labels,
    make_veil,
    padded_rgba,
    place_labels,
    place_veil,
    short_number,
    text_colors,
    update_mesh,
)
from cnnlib.widgets._text import WARM_CHARS, WARM_PAIRS, CachedText, GlyphText

__all__ = [
    "PAD_COLOR",
    "VEIL_COLOR",
    "WARM_CHARS",
    "WARM_PAIRS",
    "BlitView",
    "CachedText",
    "GlyphText",
    "PixelImage",
    "cell_grid",
    "cell_mesh",
    "fit_fontsize",
    "imshow",
    "make_labels",
    "make_veil",
    "padded_rgba",
    "place_labels",
    "place_veil",
    "short_number",
    "text_colors",
    "update_mesh",
]
