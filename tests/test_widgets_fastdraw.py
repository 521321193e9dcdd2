"""cnnlib.widgets._text and _cells: CachedText against matplotlib's own Text (the same pixels), and
the cell labels of short_number; PixelImage against matplotlib's images, GlyphText against
Text, the PNG writer and the cell text colours."""

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

from cnnlib.widgets._cells import PixelImage, short_number
from cnnlib.widgets._text import CachedText

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


def test_cached_text_layout_follows_its_text_and_font() -> None:
    """The layout is cached per string, font and alignment: a label that moves, changes its
    string, its size or its alignment draws the pixels a fresh ``Text`` draws there."""
    states = [
        (0.2, 0.3, "-1.5", {"fontsize": 13, "ha": "center", "va": "center"}),
        (0.7, 0.6, "-1.5", {"fontsize": 13, "ha": "center", "va": "center"}),  # moved
        (0.7, 0.6, "0.25", {"fontsize": 13, "ha": "center", "va": "center"}),  # new string
        (0.7, 0.6, "0.25", {"fontsize": 20, "ha": "center", "va": "center"}),  # larger
        (0.7, 0.6, "0.25", {"fontsize": 20, "ha": "left", "va": "top"}),  # aligned otherwise
    ]
    fig = Figure(figsize=(3, 2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    label = CachedText(0, 0, "", transform=ax.transAxes, clip_on=False)
    ax.add_artist(label)
    for x, y, s, style in states:
        label.set_position((x, y))
        label.set_text(s)
        label.set_fontsize(style["fontsize"])
        label.set_ha(style["ha"])
        label.set_va(style["va"])
        fig.canvas.draw()
        got = np.asarray(fig.canvas.buffer_rgba()).copy()
        np.testing.assert_array_equal(got, render_alone(x, y, s, style))
        assert (got[..., 0] < 128).any()


def render_alone(x: float, y: float, s: str, style: dict) -> np.ndarray:
    """A plain ``Text`` alone on the figure of the test above."""
    fig = Figure(figsize=(3, 2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.add_artist(Text(x, y, s, transform=ax.transAxes, clip_on=False, **style))
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


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


# -- PixelImage: matplotlib's own nearest-neighbour pixels ------------------------------------
def draw_image(fast: bool, data, origin="upper", extent=None, lims=None, aspect="equal"):
    from matplotlib.figure import Figure

    from cnnlib.widgets._cells import imshow

    fig = Figure(figsize=(3.1, 2.3), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.13, 0.11, 0.71, 0.77))
    kwargs = {"origin": origin, "extent": extent, "interpolation": "nearest", "aspect": aspect}
    im = imshow(ax, data, **kwargs) if fast else ax.imshow(data, **kwargs)
    if lims is not None:
        ax.set_xlim(*lims[0])
        ax.set_ylim(*lims[1])
    ax.set_axis_off()
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy(), im


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    kind=st.sampled_from(["values", "rgb", "rgba8"]),
    origin=st.sampled_from(["upper", "lower"]),
    extent=st.none()
    | st.tuples(
        st.floats(-3, 0), st.floats(0.5, 4), st.floats(-3, 0), st.floats(0.5, 4)
    ),  # fmt: skip
    zoom=st.none()
    | st.tuples(
        st.floats(0, 0.4), st.floats(0.6, 1), st.floats(0, 0.4), st.floats(0.6, 1)
    ),  # fmt: skip
    seed=st.integers(0, 2**16),
)
def test_pixel_image_matches_matplotlib_when_enlarged(h, w, kind, origin, extent, zoom, seed):
    """Enlarged (as the views draw maps): matplotlib's own grid, the cell under each pixel
    centre and its colour (opaque data), borders aside."""
    rng = np.random.default_rng(seed)
    data = {
        "values": rng.normal(size=(h, w)),
        "rgb": rng.random((h, w, 3)),
        "rgba8": np.dstack([rng.integers(0, 256, (h, w, 3)), np.full((h, w), 255)]).astype(
            np.uint8
        ),
    }[kind]
    lims = None
    if zoom is not None:  # a window into the image (cells cut at the axes' edge)
        l, r, b, t = extent or ((-0.5, w - 0.5, h - 0.5, -0.5) if origin == "upper"
                                else (-0.5, w - 0.5, -0.5, h - 0.5))  # fmt: skip
        lims = ((l + zoom[0] * (r - l), l + zoom[1] * (r - l)),
                (b + zoom[2] * (t - b), b + zoom[3] * (t - b)))  # fmt: skip
    expected, _ = draw_image(False, data, origin, extent, lims, aspect="auto")
    got, im = draw_image(True, data, origin, extent, lims, aspect="auto")
    assert isinstance(im, PixelImage) and im._index_cache is not None  # its own path was taken
    assert_equal_but_ties(got, expected, 0.02)


def assert_equal_but_ties(got, expected, fraction: float, neighbours: bool = True) -> None:
    """Pixel-equal, except where a pixel centre sits on a cell border: matplotlib's fixed-point
    resampler may take the cell on the other side there. Such a pixel has the colour of a
    neighbouring pixel of matplotlib's image, and they are few."""
    diff = np.any(got != expected, axis=-1)
    assert diff.mean() <= fraction, diff.mean()
    if not neighbours:  # shrunk: the cell beside the border is not on the next pixel
        return
    padded = np.pad(expected, ((1, 1), (1, 1), (0, 0)), mode="edge")
    for r, c in zip(*np.nonzero(diff), strict=True):
        neighbours = padded[[r, r + 2, r + 1, r + 1], [c + 1, c + 1, c, c + 2]]
        assert (neighbours == got[r, c]).all(axis=-1).any(), (r, c)


def test_pixel_image_reduced_differs_only_on_ties() -> None:
    """Shrunk (224 cells on ~150 px), a pixel centre can fall on a cell border within the
    resampler's fixed-point precision; matplotlib and the float lookup may then take
    neighbouring cells: ~1 % of the pixels here (a photo shrunk this way differs invisibly)."""
    data = np.random.default_rng(0).random((224, 224))
    expected, _ = draw_image(False, data)
    got, _ = draw_image(True, data)
    assert np.any(got != expected)  # (else this test would be moot: sizes changed)
    assert_equal_but_ties(got, expected, 0.02, neighbours=False)


def test_pixel_image_follows_new_data_and_limits() -> None:
    data = np.arange(12.0).reshape(3, 4)
    fast, im = draw_image(True, data)
    im.set_data(data[::-1])
    im.axes.set_xlim(0.5, 3.5)
    im.figure.canvas.draw()
    expected, ref = draw_image(False, data[::-1], lims=((0.5, 3.5), (2.5, -0.5)))
    np.testing.assert_array_equal(np.asarray(im.figure.canvas.buffer_rgba()), expected)


# -- GlyphText: whole-pixel text composed from glyph bitmaps ----------------------------------
def ink_box(rgba: np.ndarray) -> tuple[int, int, int, int]:
    ink = rgba[..., :3].min(axis=-1) < 160
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    return rows[0], rows[-1], cols[0], cols[-1]


@settings(max_examples=30, deadline=None)
@given(
    x=st.floats(0.05, 0.6),
    y=st.floats(0.1, 0.8),
    s=st.sampled_from(["-0.123", "+12.5", "conv 2 of 3: 3 × 3", "sum\n+0.031", "image 17: disc"]),
    style=st.sampled_from(STYLES[:5]),
)
def test_glyph_text_lands_where_text_does(x, y, s, style) -> None:
    """Composed at whole pixels from cached glyphs: the ink is matplotlib's, within a pixel."""
    from cnnlib.widgets._text import GlyphText

    style = {k: v for k, v in style.items() if k != "alpha"}
    expected = render(Text, [(x, y, s, style)], 100)
    got = render(GlyphText, [(x, y, s, style)], 100)
    assert np.all(np.abs(np.subtract(ink_box(got), ink_box(expected))) <= 1)


def test_glyph_text_replays_only_what_did_not_change() -> None:
    """An unchanged label is pasted from its last draw; a changed one is composed again, and
    both show what a new label would."""
    from cnnlib.widgets._text import GlyphText

    def figure(text: str, dx: float = 0.0):
        fig = Figure(figsize=(3, 1.5), dpi=100)
        FigureCanvasAgg(fig)
        label = GlyphText(0.2 + dx, 0.5, text, transform=fig.transFigure, fontsize=14)
        fig.add_artist(label)
        return fig, label

    fig, label = figure("1.25\nsum")
    fig.canvas.draw()
    first = np.array(fig.canvas.buffer_rgba())
    assert label._memo is not None  # multi-line text is memoized too
    fig.canvas.draw()
    np.testing.assert_array_equal(np.asarray(fig.canvas.buffer_rgba()), first)
    for text, dx in [("-7.5\nsum", 0.0), ("-7.5\nsum", 0.13)]:
        label.set_text(text)
        label.set_x(0.2 + dx)
        fig.canvas.draw()
        new, _ = figure(text, dx)
        new.canvas.draw()
        np.testing.assert_array_equal(
            np.asarray(fig.canvas.buffer_rgba()), np.asarray(new.canvas.buffer_rgba())
        )


def test_number_pairs_are_all_learnt_at_once(monkeypatch) -> None:
    """After a font's first string, a number never seen before needs no layout."""
    from cnnlib.widgets import _text as fd

    assert len(fd.WARM_PAIRS) == len(fd.WARM_CHARS) ** 2 + 1
    assert all(a + b in fd.WARM_PAIRS for a in fd.WARM_CHARS for b in fd.WARM_CHARS)
    fig = Figure(figsize=(3, 1.5), dpi=90)
    FigureCanvasAgg(fig)
    label = fd.GlyphText(0.1, 0.5, "12.5", transform=fig.transFigure, fontsize=13.5)
    fig.add_artist(label)
    fig.canvas.draw()
    layouts = []
    monkeypatch.setattr(fd, "_learn_pairs", lambda *a: layouts.append(a[1]) or True)
    for text in ["-0.987", "+3.14e-05", "(42 %)", "7 × 9 = 63"]:
        label.set_text(text)
        fig.canvas.draw()
    assert layouts == []


# -- the PNG and the cell text colours ---------------------------------------------------------
def test_png_bytes_round_trip() -> None:
    import io

    from PIL import Image

    from cnnlib.plotting import png_bytes

    rgba = np.random.default_rng(3).integers(0, 256, (37, 53, 4)).astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png_bytes(rgba)))), rgba)


@settings(max_examples=60, deadline=None)
@given(
    cmap=st.sampled_from(["cividis", "PuOr_r", "gray", "viridis", "RdBu_r"]),
    values=st.lists(st.floats(-1e3, 1e3) | st.just(float("nan")), min_size=1, max_size=40),
    lo=st.floats(-10, 10),
    span=st.floats(0, 10),
)
def test_cell_text_colors_from_table_equal_the_colormap_rule(cmap, values, lo, span) -> None:
    """The per-colormap table picks what ``text_color`` picks on the colour matplotlib draws."""
    from cnnlib.plotting import cell_text_colors, text_color

    hi = lo + span
    with np.errstate(over="ignore", invalid="ignore"):
        t = np.clip((np.asarray(values) - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
    expected = text_color(matplotlib.colormaps[cmap](t).reshape(-1, 4))
    assert cell_text_colors(values, cmap, lo, hi) == expected
