"""Drawing primitives shared by the notebooks' figures and the interactive views.

Conventions: a grid cell (i, j) is centred on the point (x=j, y=i), rows grow downwards,
so a k x k window whose top-left cell is (r, c) covers x in [c - 0.5, c + k - 0.5].
Colormaps are colour-blind safe: ``SEQUENTIAL`` for intensities, ``DIVERGING`` for signed
values (kernels, gradients), centred on zero by ``symmetric_limits``.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.text import Text

SEQUENTIAL = "cividis"
DIVERGING = "PuOr_r"
HIGHLIGHT = "#d55e00"  # Okabe-Ito vermillion
ACCENT = "#0072b2"  # Okabe-Ito blue
MUTED = "#999999"
#: (marker, colour) of the first, second, ... line of a line chart (Okabe-Ito, colour-blind safe)
LINE_STYLES = (("o", HIGHLIGHT), ("s", ACCENT), ("^", "#009e73"), ("D", "#cc79a7"))
MUTED_TEXT = "#595959"  # grey text still readable on white (7:1; MUTED is 2.8:1)

#: matplotlib settings for a projector at the back of a lecture hall
LECTURE_RC = {
    "font.size": 15,
    "axes.titlesize": 17,
    "axes.labelsize": 15,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 13,
    "lines.linewidth": 2.5,
    "figure.dpi": 100,
}
#: how much larger the lecture style draws everything a view shows (type, lines, controls)
LECTURE_SCALE = 1.5
#: the current view scale: ``use_style`` sets it, views read it when they are built
_VIEW_SCALE = {"scale": 1.0}


def view_scale() -> float:
    """How much larger than the default views draw now: ``LECTURE_SCALE`` in the lecture
    style, 1 otherwise."""
    return _VIEW_SCALE["scale"]


def use_style(style: str = "lecture") -> None:
    """Switch figures and views to ``"lecture"`` (large type for projection) or ``"default"``.

    Affects figures and views created afterwards: ``use_style("lecture")`` at the top of a
    notebook before a lecture, ``use_style("default")`` to go back. In the lecture style a
    view draws its text and lines ``LECTURE_SCALE`` times larger in the same picture size
    (``new_figure``), and its controls, labels and readouts are ``LECTURE_SCALE`` times larger.
    """
    import matplotlib as mpl

    from cnnlib._validate import check_choice

    check_choice("style", style, ("lecture", "default"))
    if style == "lecture":
        mpl.rcParams.update(LECTURE_RC)
        _VIEW_SCALE["scale"] = LECTURE_SCALE
    else:
        mpl.rcParams.update({k: mpl.rcParamsDefault[k] for k in LECTURE_RC})
        _VIEW_SCALE["scale"] = 1.0


def new_figure(width: float = 9.0, height: float = 4.0, dpi: int = 80) -> Figure:
    """Return a matplotlib Figure on an Agg canvas, outside pyplot's figure registry.

    Views own their figure for their whole life, so it must not leak into ``plt.gcf()``
    nor be closed by ``plt.close("all")``. The lecture style gives it ``s = LECTURE_SCALE``
    times the dpi over ``s ** (1/3)`` times fewer inches: a picture ``s ** (2/3)`` (1.31) times
    as many pixels wide, on which every point size (type, line widths) takes ``s ** (1/3)``
    (1.14) times the share: shown at its size, type ``s`` times larger; shrunk to fit a narrow
    screen, still larger than the default shrunk the same way.
    """
    scale = _VIEW_SCALE["scale"]
    inches = scale ** (1 / 3)  # part of the scale that enlarges type relative to the picture
    fig = Figure(figsize=(width / inches, height / inches), dpi=dpi * scale, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def symmetric_limits(values: np.ndarray) -> tuple[float, float]:
    """Return ``(-m, m)`` with ``m = max |values|`` (1 if all zero): centres a diverging map."""
    m = float(np.max(np.abs(values))) if np.size(values) else 0.0
    m = m if m > 0 and np.isfinite(m) else 1.0
    return -m, m


# -- readable numbers on coloured cells (WCAG 2.x contrast) ----------------------------------
#: the smallest contrast ratio WCAG 2.x (success criterion 1.4.3, level AA) allows for text
MIN_CONTRAST = 4.5


def relative_luminance(color) -> np.ndarray | float:
    """WCAG 2.x relative luminance of an sRGB colour (or an array of them, RGB(A) last axis).

    Each channel ``c`` in [0, 1] is linearised, ``c / 12.92`` if ``c <= 0.04045`` else
    ``((c + 0.055) / 1.055) ** 2.4``, then ``L = 0.2126 R + 0.7152 G + 0.0722 B`` (0 black,
    1 white). Accepts a matplotlib colour name or hex string too.
    """
    from matplotlib.colors import to_rgba

    rgb = np.asarray(to_rgba(color) if isinstance(color, str) else color, dtype=float)
    if rgb.shape[-1] not in (3, 4):
        raise ValueError(f"color must end in 3 (RGB) or 4 (RGBA) channels, got {rgb.shape}")
    c = rgb[..., :3]
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lum = linear @ np.array([0.2126, 0.7152, 0.0722])
    return float(lum) if lum.ndim == 0 else lum


def contrast_ratio(a, b) -> np.ndarray | float:
    """WCAG 2.x contrast ratio ``(L_lighter + 0.05) / (L_darker + 0.05)``, from 1 to 21."""
    la, lb = np.asarray(relative_luminance(a)), np.asarray(relative_luminance(b))
    ratio = (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)
    return float(ratio) if ratio.ndim == 0 else ratio


def text_color(cell) -> str | list[str]:
    """The colour to write on a cell of colour ``cell``: ``"black"`` or ``"white"``, whichever
    has the larger WCAG contrast ratio with it.

    The better of the two is always at least ``sqrt(21) = 4.58`` (the ratios with black and
    with white multiply to 21), so every label passes ``MIN_CONTRAST``. ``cell`` is one colour
    (name, hex, RGB(A) in [0, 1]) or an array of RGB(A) colours (a list of names back).
    Every view that writes numbers on cells takes its text colours from here.
    """
    lum = np.asarray(relative_luminance(cell))
    # contrast with black (L + 0.05) / 0.05 against with white 1.05 / (L + 0.05)
    black = (lum + 0.05) ** 2 >= 0.05 * 1.05
    if lum.ndim == 0:
        return "black" if black else "white"
    return ["black" if b else "white" for b in black.ravel()]


def cell_text_colors(values, cmap: str, vmin: float, vmax: float) -> list[str]:
    """``text_color`` of the cells that ``values`` get through colormap ``cmap`` on
    ``[vmin, vmax]`` (values clipped to it, as matplotlib draws them)."""
    span = vmax - vmin if vmax > vmin else 1.0
    with np.errstate(over="ignore", invalid="ignore"):  # a tiny span: every value an end
        t = np.clip((np.ravel(np.asarray(values, dtype=float)) - vmin) / span, 0.0, 1.0)
    black, n = _black_text_table(cmap)
    # the colormap's own lookup: entry int(t N), t = 1 taking the last entry; NaN: "bad"
    index = np.where(np.isnan(t), n, np.minimum(np.nan_to_num(t) * n, n - 1)).astype(int)
    return ["black" if b else "white" for b in black[index]]


@functools.lru_cache(maxsize=64)
def colormap(name: str):
    """``matplotlib.colormaps[name]``, built once (the registry hands out a new copy, with a
    new lookup table, on every access). Shared: do not modify it."""
    import matplotlib

    return matplotlib.colormaps[name]


@functools.lru_cache(maxsize=64)
def _black_text_table(cmap: str) -> tuple[np.ndarray, int]:
    """Per entry of colormap ``cmap``'s lookup table: does black text read best on it?"""
    lut = colormap(cmap)
    n = lut.N
    colors = np.vstack([lut(np.arange(n)), lut(np.nan)])  # the last: "bad"
    return np.array(text_color(colors)) == "black", n


def show_grid(
    ax: Axes,
    values: np.ndarray,
    cmap: str = SEQUENTIAL,
    vmin: float | None = None,
    vmax: float | None = None,
    title: str | None = None,
    lines: bool = True,
) -> AxesImage:
    """Draw a 2-D array as a grid of cells and return the image artist (update it with set_data).

    ``lines`` draws thin cell borders; axis ticks are hidden.
    """
    values = np.asarray(values, dtype=float)
    im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    set_grid_lines(ax, values.shape, lines)
    if title is not None:
        ax.set_title(title)
    return im


def set_grid_lines(ax: Axes, shape: Sequence[int], lines: bool = True) -> None:
    """Set the axes to show ``shape`` cells, with thin borders between cells if ``lines``."""
    h, w = shape[0], shape[1]
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_xticks(np.arange(-0.5, w, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, h, 1), minor=True)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_xticks([])
    ax.set_yticks([])
    if lines:
        ax.grid(True, which="minor", color="white", linewidth=0.6)
    else:  # matplotlib turns the grid on when style keywords come with False
        ax.grid(False, which="minor")


def window_rect(
    ax: Axes,
    row: int,
    col: int,
    height: int,
    width: int,
    color: str = HIGHLIGHT,
    linewidth: float = 3.0,
    fill: bool = False,
    alpha: float = 1.0,
) -> Rectangle:
    """Add a rectangle outlining cells ``[row, row+height) x [col, col+width)``; return it."""
    rect = Rectangle(
        (col - 0.5, row - 0.5),
        width,
        height,
        fill=fill,
        edgecolor=color,
        facecolor=color if fill else "none",
        linewidth=linewidth,
        alpha=alpha,
        zorder=3,
    )
    ax.add_patch(rect)
    return rect


def move_rect(rect: Rectangle, row: float, col: float, height: float, width: float) -> None:
    """Move and resize a rectangle made by ``window_rect`` to cover new cells."""
    rect.set_xy((col - 0.5, row - 0.5))
    rect.set_width(width)
    rect.set_height(height)


def figure_png(fig: Figure) -> bytes:
    """Render ``fig`` and return its PNG bytes (``png_bytes`` of the Agg buffer)."""
    canvas = fig.canvas
    canvas.draw()
    return png_bytes(np.asarray(canvas.buffer_rgba()))


def png_bytes(rgba: np.ndarray) -> bytes:
    """A PNG (RGBA, no row filter, zlib level 1) of an ``(H, W, 4)`` uint8 buffer.

    Flat-coloured cells compress well without PNG's row filters, and skipping them halves the
    encoding time of Pillow's writer. The alpha channel is kept: copying the rows whole costs
    less than dropping every fourth byte (~1 ms against ~3 ms for a 1040 x 528 figure), and
    the constant alpha adds ~10 % to the compressed size.
    """
    h, w = rgba.shape[:2]
    raw = np.empty((h, 1 + 4 * w), dtype=np.uint8)
    raw[:, 0] = 0  # filter type "none" on every row
    raw[:, 1:] = rgba.reshape(h, 4 * w)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


def label_cells(im: AxesImage, fmt: str = "{:g}", fontsize: float | None = None) -> list[Text]:
    """Write every value of a grid drawn by ``show_grid`` in its cell; return the labels.

    Each label is black or white, whichever contrasts more with its cell's colour
    (``text_color``: WCAG contrast at least 4.5:1). For small grids only: one text per cell.
    """
    values = np.asarray(im.get_array(), dtype=float)
    colors = np.reshape(text_color(im.cmap(im.norm(values)).reshape(-1, 4)), values.shape)
    ax = im.axes
    labels = []
    for (i, j), v in np.ndenumerate(values):
        color = colors[i, j]
        labels.append(
            ax.text(j, i, fmt.format(v), ha="center", va="center", color=color, fontsize=fontsize)
        )
    return labels


def show_images(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    cmaps: str | Sequence[str] = "gray",
    width: float = 16.0,
    symmetric: Sequence[bool] | None = None,
    percentile: float = 100.0,
) -> Figure:
    """Show images side by side in one pyplot figure (axes off), one title each; return it.

    ``symmetric[k]`` centres image ``k``'s colour scale on zero (signed responses such as edge
    filters); ``cmaps`` is one colormap name or one per image. ``percentile`` < 100 saturates
    the few most extreme values so that the rest are not washed out: the scale runs to that
    percentile of ``|values|`` (symmetric) or of the values (from the ``100 - percentile``
    one).
    """
    if not 50.0 <= percentile <= 100.0:
        raise ValueError(f"percentile must be between 50 and 100, got {percentile}")
    import matplotlib.pyplot as plt

    n = len(images)
    if len(titles) != n:
        raise ValueError(f"titles must have one entry per image ({n}), got {len(titles)}")
    cmaps = [cmaps] * n if isinstance(cmaps, str) else list(cmaps)
    symmetric = [False] * n if symmetric is None else list(symmetric)
    if len(cmaps) != n or len(symmetric) != n:
        raise ValueError(f"cmaps and symmetric must have one entry per image ({n})")
    h, w = np.shape(images[0])[:2]
    fig, axes = plt.subplots(
        1, n, figsize=(width, width / n * h / w + 0.6), layout="constrained", squeeze=False
    )
    for ax, img, title, cmap, sym in zip(axes[0], images, titles, cmaps, symmetric, strict=True):
        if sym:
            m = float(np.percentile(np.abs(img), percentile))
            limits = symmetric_limits(img) if m == 0 else (-m, m)
        elif percentile < 100.0:
            limits = tuple(np.percentile(img, [100.0 - percentile, percentile]))
        else:
            limits = (None, None)
        ax.imshow(img, cmap=cmap, vmin=limits[0], vmax=limits[1], interpolation="antialiased")
        ax.set_title(title)
        ax.set_axis_off()
    return fig


def show_conv_window(
    x: np.ndarray, kernel: np.ndarray, row: int = 0, col: int = 0, width: float = 9.0
) -> Figure:
    """Input, kernel and output of ``conv2d(x, kernel)`` (2-D, stride 1, no padding), every cell
    labelled, in one pyplot figure; return it.

    The window that makes ``output[row, col]`` is outlined on the input, that cell on the
    output, and the title writes the sum out,
    ``output[row, col] = sum_{a, b} x[row + a, col + b] * kernel[a, b]``, term by term
    (``output[0, 0] = 0·0 + 1·1 + 3·2 + 4·3 = 19`` for Dive into Deep Learning's example).
    """
    import matplotlib.pyplot as plt

    from cnnlib.conv import conv2d

    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    if x.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"x and kernel must be 2-D, got shapes {x.shape} and {kernel.shape}")
    out = conv2d(x, kernel)
    kh, kw = kernel.shape
    if not (0 <= row < out.shape[0] and 0 <= col < out.shape[1]):
        raise ValueError(f"(row, col) = ({row}, {col}) is outside the {out.shape} output")
    window = x[row : row + kh, col : col + kw]
    terms = " + ".join(f"{a:g}·{b:g}" for a, b in zip(window.ravel(), kernel.ravel(), strict=True))
    ratios = [x.shape[1], kw, out.shape[1]]  # cells of one size in all three grids
    fig, axes = plt.subplots(
        1, 3, figsize=(width, width * 0.36), width_ratios=ratios, layout="constrained"
    )
    label_cells(show_grid(axes[0], x, cmap=SEQUENTIAL, title="input"), fontsize=22)
    limits = symmetric_limits(kernel)
    label_cells(show_grid(axes[1], kernel, DIVERGING, *limits, title="kernel"), fontsize=22)
    label_cells(show_grid(axes[2], out, cmap=SEQUENTIAL, title="output"), fontsize=22)
    window_rect(axes[0], row, col, kh, kw)
    window_rect(axes[2], row, col, 1, 1)
    fig.suptitle(f"output[{row}, {col}] = {terms} = {out[row, col]:g}")
    return fig


#: cell colours of the output-size pictures (Okabe-Ito, colour-blind safe), one meaning each
ARITHMETIC_COLORS = {
    "input": "#56b4e9",  # sky blue: an input pixel
    "padding": "#f2f2f2",  # near white: a padding cell
    "zero": "#b3b3b3",  # grey: a zero inserted between inputs (transposed convolution)
    "unreached": "#cc79a7",  # reddish purple: an input pixel no window reads
    "output": "#e69f00",  # orange: the output
}


def draw_conv_grid(ax: Axes, grid, window: int = 0, title: str | None = None) -> None:
    """Draw a ``cnnlib.shapes.ConvGrid`` on ``ax`` as Dumoulin & Visin do, square in 2-D.

    Left: the grid the windows slide over (inputs blue, padding light, inserted zeros grey,
    inputs no window reads purple), the taps of window ``(window, window)`` outlined; right:
    the output, its cell for that window outlined.
    """
    from matplotlib.colors import to_rgba

    colors = ARITHMETIC_COLORS
    kind = np.asarray(grid.kind)
    cells, out = grid.cells, grid.output_size
    lo, hi = np.minimum.outer(kind, kind), np.maximum.outer(kind, kind)
    kind2 = np.where(lo == 0, 0, np.where(hi == 1, 1, 2))
    palette = np.array([to_rgba(colors[c]) for c in ("padding", "input", "zero")])
    rgba = palette[kind2]
    lost = np.zeros(cells, dtype=bool)
    for i in grid.unreached:
        t = grid.input_cells[i]
        if 0 <= t < cells:
            lost[t] = True
    rgba[np.logical_or.outer(lost, lost) & (kind2 == 1)] = to_rgba(colors["unreached"])
    ax.imshow(rgba, interpolation="nearest", extent=(-0.5, cells - 0.5, cells - 0.5, -0.5))
    x0 = cells + 1.5  # the output grid starts here
    ax.add_patch(
        Rectangle((x0 - 0.5, -0.5), out, out, facecolor=colors["output"], alpha=0.55, zorder=1)
    )
    for offset, n in ((0.0, cells), (x0, out)):
        edges = np.arange(n + 1) - 0.5
        ax.vlines(offset + edges, -0.5, n - 0.5, colors="white", linewidth=1.0, zorder=2)
        ax.hlines(edges, offset - 0.5, offset + n - 0.5, colors="white", linewidth=1.0, zorder=2)
    taps = grid.taps[min(window, out - 1)]
    for r in taps:
        for c in taps:
            window_rect(ax, r, c, 1, 1, color=HIGHLIGHT, linewidth=2.0)
    j = min(window, out - 1)
    window_rect(ax, j, x0 + j, 1, 1, color=HIGHLIGHT, linewidth=2.0)
    ax.annotate(
        "",
        xy=(x0 - 0.7, (out - 1) / 2),
        xytext=(cells - 0.3, (out - 1) / 2),
        arrowprops={"arrowstyle": "->", "color": MUTED, "linewidth": 1.5},
    )
    ax.set_xlim(-0.6, x0 + out - 0.4)
    ax.set_ylim(max(cells, out) - 0.4, -0.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)


def draw_box_graph(
    ax: Axes,
    boxes: dict[str, tuple[float, float, str, str]],
    edges: Sequence[tuple[str, str]],
    muted: set[str] | frozenset[str] = frozenset(),
    width: float = 2.6,
    height: float = 1.3,
) -> tuple[dict[str, Rectangle], list]:
    """Draw a directed graph of labelled boxes: ``boxes[key] = (x, y, title, text)``.

    Each box is a ``width`` x ``height`` rectangle centred on ``(x, y)`` with a bold title and
    smaller text below it; each edge ``(a, b)`` is an arrow from the border of box ``a`` to
    the border of box ``b``. Keys in ``muted`` are drawn grey and dashed (things from outside).
    Returns the box patches by key and the arrows in the order of ``edges``.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    for a, b in edges:
        for key in (a, b):
            if key not in boxes:
                raise ValueError(f"edges must join keys of boxes, got {key!r}")
    patches: dict[str, Rectangle] = {}
    for key, (x, y, title, text) in boxes.items():
        grey = key in muted
        patch = FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor="#f2f2f2" if grey else "#e8f1fa",
            edgecolor=MUTED if grey else ACCENT,
            linewidth=1.5 if grey else 2.2,
            linestyle="--" if grey else "-",
            zorder=2,
        )
        ax.add_patch(patch)
        patches[key] = patch
        if text:
            ax.text(
                x,
                y + height / 2 - 0.1,
                title,
                ha="center",
                va="top",
                weight="bold",
                fontsize=12.5,
                zorder=3,
            )
            ax.text(
                x,
                y - 0.12,
                text,
                ha="center",
                va="center",
                fontsize=11,
                zorder=3,
                color="#333333",
                linespacing=1.25,
            )
        else:
            ax.text(
                x,
                y,
                title,
                ha="center",
                va="center",
                fontsize=11.5,
                zorder=3,
                color="#555555",
                style="italic",
                wrap=True,
            )
    arrows = []
    for a, b in edges:
        arrow = FancyArrowPatch(
            posA=boxes[a][:2],
            posB=boxes[b][:2],
            patchA=patches[a],
            patchB=patches[b],
            arrowstyle="-|>",
            mutation_scale=18,
            color=MUTED if a in muted else HIGHLIGHT,
            linewidth=1.6 if a in muted else 2.2,
            linestyle="--" if a in muted else "-",
            shrinkA=2,
            shrinkB=2,
            zorder=1,
        )
        ax.add_patch(arrow)
        arrows.append(arrow)
    xs = [v[0] for v in boxes.values()]
    ys = [v[1] for v in boxes.values()]
    ax.set_xlim(min(xs) - width / 2 - 0.2, max(xs) + width / 2 + 0.2)
    ax.set_ylim(min(ys) - height / 2 - 0.2, max(ys) + height / 2 + 0.2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return patches, arrows
