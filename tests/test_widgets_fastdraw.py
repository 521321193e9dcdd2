"""cnnlib.widgets._fastdraw: CachedText against matplotlib's own Text (the same pixels), and
the cell labels of short_number."""

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

from cnnlib.widgets._fastdraw import CachedText, short_number

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


def test_short_number_reviewers_values() -> None:
    # 2 significant digits turned these into integers or exponents
    assert short_number(36.5) == "36.5"
    assert short_number(27.5) == "27.5"
    assert short_number(12.25) in ("12.2", "12.3")  # a tie: either neighbour is honest
    assert short_number(123.4) == "123"
    assert short_number(166.78) == "167"
    assert short_number(-166.78) == "-167"
    assert short_number(999.7) == "1000"
    # what was right stays: integers, small numbers, infinities
    assert [short_number(v) for v in (3.0, -2.0, 0.0, 1 / 9, -0.25)] == [
        "3",
        "-2",
        "0",
        "0.11",
        "-0.25",
    ]
    assert [short_number(v) for v in (np.inf, -np.inf)] == ["∞", "−∞"]


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=1e-4, max_value=9999.0), st.booleans())
def test_short_number_is_short_and_does_not_mislead(size: float, negative: bool) -> None:
    value = -size if negative else size
    text = short_number(value)
    assert "e" not in text  # no exponent below 10 000
    shown = float(text)
    # the label is the value rounded at its last digit: within half a unit of it
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert abs(shown - value) <= 0.5 * 10.0**-decimals * (1 + 1e-9)
    if size < 99.95 and abs(value - round(value)) > 1e-9:
        assert "." in text  # below 100 only a whole number reads as one
    if size >= 0.1:
        assert len(text.lstrip("-")) <= 4  # fits a cell as the old 2-digit labels did


def test_sliding_kernel_output_label_on_a_0_255_image() -> None:
    # the reviewer's case: box blur on a 0-255 image showed "1.7e+02" in the output cell
    import torch
    import torch.nn.functional as F

    from cnnlib.widgets.sliding_kernel import SlidingKernel

    img = np.random.default_rng(3).integers(0, 256, (8, 8)).astype(float)
    view = SlidingKernel(img, "box blur")
    expected = F.conv2d(
        torch.tensor(img)[None, None], torch.full((1, 1, 3, 3), 1 / 9.0, dtype=torch.float64)
    )[0, 0]
    checked = 0
    for row, col in [(0, 0), (2, 3), (4, 5)]:
        view.set_controls(row=row, col=col)
        value = float(expected[row, col])
        assert view.out_label.get_text() == str(round(value))  # >= 100 here: whole numbers
        checked += value >= 100 and abs(value - round(value)) > 1e-6
    assert checked
