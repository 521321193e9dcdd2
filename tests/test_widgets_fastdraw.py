"""CachedText (cnnlib.widgets._fastdraw) against matplotlib's own Text: the same pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import IdentityTransform

from cnnlib.widgets._fastdraw import CachedText

STYLES = [
    {"fontsize": 12, "ha": "right", "va": "center"},
    {"fontsize": 12, "fontweight": "bold"},
    {"fontsize": 13, "ha": "center", "va": "bottom", "color": "#d95f02"},
    {"fontsize": 17, "ha": "center", "va": "center", "alpha": 0.5},
    {"fontsize": 9, "va": "top", "color": "red"},
    {"fontsize": 11, "rotation": 30},  # rotated: matplotlib's own path
]
STRINGS = ["conv 3x3 s1 \u2192 128", "window 23", "gjpqy \u00c5\u00c9", "$r = 2^3$", "", "a\nb c"]


def render(cls: type, texts: list[tuple[float, float, str, dict]], dpi: float) -> np.ndarray:
    """The figure's pixels: a grey image under ``texts`` (axes coordinates), drawn twice."""
    fig = Figure(figsize=(4.1, 2.3), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    ax.imshow(np.linspace(0, 1, 64).reshape(8, 8), cmap="gray", extent=(0, 1, 0, 1))
    for x, y, s, kw in texts:
        ax.add_artist(cls(x, y, s, transform=ax.transAxes, clip_on=False, **kw))
    fig.canvas.draw()
    first = np.array(fig.canvas.buffer_rgba())
    fig.canvas.draw()  # CachedText: pasted from the cache this time
    np.testing.assert_array_equal(np.asarray(fig.canvas.buffer_rgba()), first)
    return first


@pytest.mark.parametrize("dpi", [72, 100, 77.3])
def test_cached_text_matches_text(dpi: float) -> None:
    texts = [
        (0.05 + 0.15 * i, 0.1 + 0.13 * i, STRINGS[i % len(STRINGS)], kw)
        for i, kw in enumerate(STYLES)
    ]
    expected = render(Text, texts, dpi)
    got = render(CachedText, texts, dpi)
    assert (expected[..., :3] < 200).any()  # some text was drawn
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=25)
@given(
    x=st.floats(-0.1, 1.1),
    y=st.floats(-0.1, 1.1),
    s=st.sampled_from(STRINGS),
    style=st.sampled_from(STYLES),
)
def test_cached_text_any_position(x: float, y: float, s: str, style: dict) -> None:
    """Every sub-pixel offset: the cache is keyed by it, so the pixels stay identical."""
    np.testing.assert_array_equal(render(CachedText, [(x, y, s, style)], 100),
                                  render(Text, [(x, y, s, style)], 100))  # fmt: skip


def test_cached_text_reused_at_other_positions() -> None:
    """A string drawn before, at another whole-pixel position, is pasted, not re-rendered."""
    CachedText._cache.clear()
    fig = Figure(figsize=(3, 2), dpi=100)
    FigureCanvasAgg(fig)
    pixels = IdentityTransform()
    labels = [CachedText(10.25 + 37 * i, 50.5, "window 3", transform=pixels) for i in range(3)]
    for label in labels:
        fig.add_artist(label)
    fig.canvas.draw()
    assert len(CachedText._cache) == 1
    ink = np.asarray(fig.canvas.buffer_rgba())[..., 0] < 128
    cols = np.nonzero(ink.any(axis=0))[0]
    assert cols.min() >= 10 and cols.max() > 10 + 2 * 37  # all three were drawn
