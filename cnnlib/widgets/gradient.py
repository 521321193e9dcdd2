"""GradientView: where one number of the backward pass through a convolution comes from.

For ``y = conv2d(x, w, stride=s, padding=p)`` and a loss with output gradient ``g = dL/dy``:

- mode ``dL/dx``: ``dL/dx[r, c] = sum_{m, n} G[r + p + m, c + p + n] * rot180(w)[m, n]``,
  where ``G`` is ``g`` dilated by the stride (``s - 1`` zeros between entries) and padded by
  ``k - 1`` zeros: the rotated kernel slides over ``G`` and writes ``dL/dx`` cell by cell.
  The cells of ``g`` under the window are the outputs whose windows covered pixel ``(r, c)``.
- mode ``dL/dw``: ``dL/dw[m, n] = sum_{i, j} g[i, j] * x_pad[s*i + m, s*j + n]``: every output
  gradient meets the one input pixel its window put under tap ``(m, n)``.

The maps come from ``cnnlib.backprop.conv2d_backward`` and the highlighted number's terms from
``cnnlib.backprop.gradient_terms`` (the definition, term by term), so the view shows both and
they must agree; the output size is ``cnnlib.shapes.conv_output_size``. ``gradient_state``
computes what the view shows from the control values, without drawing, ``work_canvas`` the
canvas of mode ``dL/dx`` with each cell's kind.

What the colours say: the ``dL/dy`` panel writes its numbers in the cells (every cell of a
small gradient, else the ones in play); on the canvas of ``dL/dx`` the zeros that the stride
inserts between gradient entries are pale green and the ``k - 1`` border of zero padding is
grey, so "the stride's zeros" and "the padding" are told apart.
"""

from __future__ import annotations

import io
from typing import Any

import ipywidgets as widgets
import numpy as np
from PIL import Image

from cnnlib._validate import check_array, check_int
from cnnlib.backprop import conv2d_backward, dilate, gradient_terms
from cnnlib.plotting import (
    ACCENT,
    DIVERGING,
    HIGHLIGHT,
    SEQUENTIAL,
    colormap,
    move_rect,
    symmetric_limits,
    text_color,
    window_rect,
)
from cnnlib.shapes import conv_output_size
from cnnlib.widgets._base import View
from cnnlib.widgets._cells import imshow
from cnnlib.widgets._position import RasterPosition
from cnnlib.widgets._text import CachedText

MODES = ("dL/dx", "dL/dw")
MAX_STRIDE = 3
MAX_PADDING = 2
PLAY_INTERVAL = 800

#: the default kernel: asymmetric, so that its 180-degree rotation is visible
KERNEL = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0], [-2.0, 0.0, 1.0]])
_PAD_COLOR = "#d9d9d9"
#: the zeros the stride inserts between dL/dy entries (dilation): pale green, a colour that
#: neither the padding's grey nor the purple-orange diverging map uses
_INSERTED_COLOR = "#b8e0c8"
#: a dL/dy with at most this many cells has every cell labelled, else only the cells in play
LABEL_ALL_G = 49
#: cell kinds of the dL/dx canvas (``work_canvas``)
PADDING, INSERTED, ENTRY = 0, 1, 2
_VEIL = (1.0, 1.0, 1.0, 0.0)  # white, alpha set per cell: dims what does not take part
_FADE = (0.85, 0.85, 0.85, 0.93)


def _default_input() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 5, size=(6, 6)).astype(float)


def _frame(ax, shape: tuple[int, ...]) -> None:
    ax.set_xlim(-0.5, shape[1] - 0.5)
    ax.set_ylim(shape[0] - 0.5, -0.5)
    ax.set_axis_off()


def _veil(taking_part: np.ndarray, alpha: float = 0.75) -> np.ndarray:
    """An RGBA overlay that pales every cell not ``taking_part`` (they stay visible, faintly)."""
    rgba = np.zeros((*taking_part.shape, 4))
    rgba[...] = _VEIL
    rgba[..., 3] = np.where(taking_part, 0.0, alpha)
    return rgba


def _fmt(v: float) -> str:
    return str(int(round(v))) if abs(v - round(v)) < 1e-9 else f"{v:.2g}"


def work_canvas(
    g: np.ndarray, kernel_shape: tuple[int, int], stride: int, need: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The canvas that ``rot180(w)`` slides over to write ``dL/dx``, and each cell's kind.

    ``dilate(g, stride)`` (``stride - 1`` zeros between entries, ``cnnlib.backprop.dilate``)
    padded by ``k - 1`` zeros on every side, then with zeros at the bottom / right up to
    ``need`` (the padded input plus ``k - 1``: rows a stride skipped receive no gradient).
    ``kinds`` is ``ENTRY`` on the entries of ``g``, ``INSERTED`` on the zeros the stride
    inserted between them, ``PADDING`` elsewhere.
    """
    kh, kw = kernel_shape
    dil = dilate(g, stride)
    canvas = np.pad(dil, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    extra = ((0, max(0, need[0] - canvas.shape[0])), (0, max(0, need[1] - canvas.shape[1])))
    canvas = np.pad(canvas, extra)
    kinds = np.full(canvas.shape, PADDING, dtype=np.int8)
    kinds[kh - 1 : kh - 1 + dil.shape[0], kw - 1 : kw - 1 + dil.shape[1]] = INSERTED
    kinds[kh - 1 : kh - 1 + dil.shape[0] : stride, kw - 1 : kw - 1 + dil.shape[1] : stride] = ENTRY
    return canvas, kinds


def gradient_state(
    x: np.ndarray,
    weight: np.ndarray,
    grad_full: np.ndarray,
    mode: str,
    stride: int,
    padding: int,
    cell: tuple[int, int],
) -> dict:
    """What the view shows for these controls, computed by the library (no drawing).

    The output gradient ``dL/dy`` is the top-left corner of ``grad_full`` that fits the output
    (``cnnlib.shapes.conv_output_size``); the maps come from ``conv2d_backward`` and the terms of
    the chosen entry (``cell`` of ``dL/dx`` or of ``dL/dw``) from ``gradient_terms``. Mode
    ``dL/dx`` also gives ``work`` and ``work_kinds``, the canvas of ``work_canvas``; both modes
    give ``grad_out_labelled``, the cells of ``dL/dy`` whose numbers are written (all of a
    small ``dL/dy``, else those in play if they are few enough to read).
    """
    out_shape = conv_output_size(x.shape, weight.shape, stride, padding)
    g = grad_full[: out_shape[0], : out_shape[1]]
    grad_x, grad_w, _ = conv2d_backward(g, x, weight, stride=stride, padding=padding)
    wrt = "x" if mode == "dL/dx" else "weight"
    terms = gradient_terms(g, x, weight, cell, wrt, stride, padding)
    if g.size <= LABEL_ALL_G:
        labelled = np.ones(g.shape, bool)
    else:
        labelled = np.zeros(g.shape, bool)
        for t in terms:
            labelled[t["grad_out"]] = True
        if labelled.sum() > LABEL_ALL_G:  # dL/dw of a large dL/dy: every cell is in play
            labelled[:] = False
    extra = {}
    if wrt == "x":
        kh, kw = weight.shape
        need = (x.shape[0] + 2 * padding + kh - 1, x.shape[1] + 2 * padding + kw - 1)
        extra["work"], extra["work_kinds"] = work_canvas(g, weight.shape, stride, need)
    return {
        **extra,
        "grad_out_labelled": labelled,
        "mode": mode,
        "stride": stride,
        "padding": padding,
        "cell": tuple(cell),
        "value": float((grad_x if wrt == "x" else grad_w)[cell]),
        "sum_of_terms": float(sum(t["product"] for t in terms)),
        "terms": terms,
        "grad_out": g.copy(),
        "grad_x": grad_x,
        "grad_weight": grad_w,
        "output_shape": out_shape,
    }


class GradientView(RasterPosition, View):
    """One number of the backward pass: which inputs and which output gradients meet in it.

    Parameters
    ----------
    x:
        A 2-D input (3 x 3 to 10 x 10), default a 6 x 6 array of small integers.
    weight:
        A 2-D kernel no larger than ``x`` (at most 5 x 5), default an asymmetric 3 x 3.
    seed:
        Seed of the output gradient ``dL/dy`` (small integers, so every term can be checked).

    Controls: ``mode`` (``"dL/dx"`` or ``"dL/dw"``), ``row``/``col`` (the cell of ``dL/dx``),
    ``weight_row``/``weight_col`` (the weight of ``dL/dw``), ``stride``, ``padding``, ``play``
    (walks ``row``/``col`` in raster order: ``dL/dx`` being built).
    State: ``mode``, ``value`` (the number), ``terms`` (one dict per product: the output gradient
    cell, the input or kernel cell it meets, both values and the product), ``grad_x``,
    ``grad_weight``, ``grad_out``, ``output_shape``, ``grad_out_labelled`` (the cells of
    ``dL/dy`` whose numbers are written) and, in mode ``dL/dx``, ``work`` and ``work_kinds``
    (the canvas and its cells' kinds: ``ENTRY``, ``INSERTED`` by the stride, ``PADDING``).
    """

    figsize = (13.0, 3.9)
    layout_rows = (("mode", "play", "row", "col"), ("weight_row", "weight_col"))

    def __init__(self, x: Any = None, weight: Any = None, seed: int = 0) -> None:
        self._x = _default_input() if x is None else check_array("x", x, (2,)).astype(float)
        self._w = KERNEL.copy() if weight is None else check_array("weight", weight, (2,))
        self._w = self._w.astype(float)
        h, w = self._x.shape
        kh, kw = self._w.shape
        if not (3 <= h <= 10 and 3 <= w <= 10):
            raise ValueError(f"x must be between 3 x 3 and 10 x 10, got {self._x.shape}")
        if kh > min(h, 5) or kw > min(w, 5) or min(kh, kw) < 1:
            raise ValueError(
                f"weight must be between 1 x 1 and 5 x 5 and no larger than x {self._x.shape}, "
                f"got {self._w.shape}"
            )
        if not (np.all(np.isfinite(self._x)) and np.all(np.isfinite(self._w))):
            raise ValueError("x and weight must contain only finite numbers")
        rng = np.random.default_rng(check_int("seed", seed, 0))
        # one gradient for the largest output; each stride/padding uses its top-left corner
        self._g_full = rng.integers(-2, 3, size=(h + 2 * MAX_PADDING, w + 2 * MAX_PADDING))
        self._g_full = self._g_full.astype(float)
        super().__init__()

    def _build(self) -> None:
        h, w = self._x.shape
        kh, kw = self._w.shape
        self.controls = {
            "mode": widgets.ToggleButtons(options=list(MODES), value="dL/dx", description="mode"),
            "play": widgets.Play(
                value=0, min=0, max=h * w - 1, interval=PLAY_INTERVAL, description="play"
            ),
            "row": widgets.IntSlider(value=0, min=0, max=h - 1, description="row"),
            "col": widgets.IntSlider(value=0, min=0, max=w - 1, description="col"),
            "weight_row": widgets.IntSlider(value=0, min=0, max=kh - 1, description="weight row"),
            "weight_col": widgets.IntSlider(value=0, min=0, max=kw - 1, description="weight col"),
            "stride": widgets.IntSlider(value=1, min=1, max=MAX_STRIDE, description="stride"),
            "padding": widgets.IntSlider(value=1, min=0, max=MAX_PADDING, description="padding"),
        }
        self.layout_rows = (
            ("mode", "play", "row", "col"),
            ("weight_row", "weight_col", "stride", "padding"),
        )
        fig = self.figure
        axes = fig.subplots(1, 5, gridspec_kw={"width_ratios": [3.0, 2.4, 3.6, 1.7, 2.6]})
        self.ax_x, self.ax_g, self.ax_work, self.ax_k, self.ax_res = axes
        for ax in axes:
            ax.set_title(" ", y=1.0, pad=6, fontsize=15)
        # what the canvas' colours mean, under it
        self.work_key = self.ax_work.text(
            0.5, -0.03, "", transform=self.ax_work.transAxes, ha="center", va="top", fontsize=12
        )
        xlo, xhi = float(self._x.min()), float(self._x.max())
        self._xlim = (xlo, xhi if xhi > xlo else xlo + 1)
        blank = np.zeros((1, 1, 4))
        # every panel is one RGBA image coloured here: one image per axes draws fastest
        self.im_x = imshow(self.ax_x, blank, interpolation="nearest")
        self.rect_x = window_rect(self.ax_x, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=3)
        self.border_x = window_rect(self.ax_x, 0, 0, 1, 1, color=ACCENT, linewidth=1.5)
        self.border_x.set_linestyle("--")
        self.im_g = imshow(self.ax_g, blank, interpolation="nearest")
        # pales the cells of dL/dy not in play; the numbers are drawn over it, each in the
        # colour that reads on its cell as veiled (both move while Play walks dL/dx)
        self.veil_g = imshow(self.ax_g, blank, interpolation="nearest", zorder=4)
        self.g_labels = self._labels(self.ax_g, LABEL_ALL_G)
        self.im_work = imshow(self.ax_work, blank, interpolation="nearest")
        self.rect_work = window_rect(self.ax_work, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=3)
        self.work_labels = self._labels(self.ax_work, 25)
        self.im_k = imshow(self.ax_k, blank, interpolation="nearest")
        self.rect_k = window_rect(self.ax_k, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=3)
        self.k_labels = self._labels(self.ax_k, 25)
        self.im_res = imshow(self.ax_res, blank, interpolation="nearest")
        self.rect_res = window_rect(self.ax_res, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=3)
        self.res_label = self._labels(self.ax_res, 1)[0]
        # What moves while Play walks dL/dx is drawn over a cached background (blitting);
        # the background is redrawn only when ``_static_key`` changes.
        self._dynamic = [
            self.veil_g,
            *self.g_labels,
            self.im_res,
            self.rect_x,
            self.rect_work,
            self.rect_res,
            *self.work_labels,
            self.res_label,
            self.ax_x.title,
            self.ax_res.title,
        ]
        for artist in self._dynamic:
            artist.set_animated(True)
        self._background = None
        self._background_key: tuple | None = None
        self._static_key: tuple = ()

    @staticmethod
    def _labels(ax, n: int) -> list[CachedText]:
        """``n`` hidden cell labels on ``ax``; their bitmaps are cached (a few dozen are redrawn
        at every step of Play, from a handful of distinct numbers and colours)."""
        labels = []
        for _ in range(n):
            label = CachedText(
                0, 0, "", ha="center", va="center", fontsize=13, visible=False, clip_on=False
            )
            label.set_zorder(5)
            ax.add_artist(label)
            labels.append(label)
        return labels

    @staticmethod
    def _put(labels, values, rows, cols, cells: np.ndarray | None = None) -> None:
        """Label cell ``(rows[k], cols[k])`` with ``values[k]`` in the ``text_color`` of its
        colour in ``cells`` (the panel's RGBA image, as ``_show`` returns it)."""
        values, rows, cols = np.ravel(values), np.ravel(rows), np.ravel(cols)
        colors = text_color(cells[rows, cols].reshape(-1, 4)) if values.size else []
        for k, lab in enumerate(labels):
            if k < values.size:
                lab.set_position((cols[k], rows[k]))
                lab.set_text(_fmt(float(values[k])))
                lab.set_color(colors[k])
                lab.set_visible(True)
            else:
                lab.set_visible(False)

    @staticmethod
    def _show(
        im, values, cmap: str, lim, overlay: np.ndarray | None = None, inserted=None
    ) -> np.ndarray:
        """Colour ``values`` (masked cells grey, ``inserted`` cells pale green), lay
        ``overlay`` (RGBA) over them, show it; return the cells' RGBA colours (in [0, 1])."""
        import matplotlib

        lo, hi = lim
        data = np.ma.getdata(values).astype(float)
        t = np.clip((data - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
        rgba = colormap(cmap)(t)
        bad = np.ma.getmaskarray(values)
        rgba[bad] = matplotlib.colors.to_rgba(_PAD_COLOR)
        if inserted is not None:
            rgba[inserted] = matplotlib.colors.to_rgba(_INSERTED_COLOR)
        if overlay is not None:
            a = overlay[..., 3:4]
            rgba[..., :3] = rgba[..., :3] * (1 - a) + overlay[..., :3] * a
        im.set_data((rgba * 255).astype(np.uint8))
        im.set_extent((-0.5, data.shape[1] - 0.5, data.shape[0] - 0.5, -0.5))
        return rgba

    def _update(self) -> None:
        c = self.controls
        h, wd = self._x.shape
        kh, kw = self._w.shape
        mode = c["mode"].value
        r, col, raster = self._sync_position(self._play_moved(), (h, wd))  # play walks dL/dx
        m, n = int(c["weight_row"].value), int(c["weight_col"].value)
        st = gradient_state(
            self._x,
            self._w,
            self._g_full,
            mode,
            int(c["stride"].value),
            int(c["padding"].value),
            (r, col) if mode == "dL/dx" else (m, n),
        )
        self.state = st
        s, p = st["stride"], st["padding"]
        step = raster if mode == "dL/dx" else m * kw + n
        # in dL/dw mode the chosen tap changes the input and work panels too
        self._static_key = (mode, s, p) + ((m, n) if mode == "dL/dw" else ())
        self._draw(
            st,
            mode,
            np.pad(self._x, p),
            st["grad_out"],
            st["grad_x"],
            st["grad_weight"],
            st["terms"],
            st["value"],
            step,
            s,
            p,
            (r, col),
            (m, n),
        )

    def _render(self) -> None:
        """Redraw the background only when it changed, then the moving artists over it."""
        fig = self.figure
        canvas = fig.canvas
        if self.relayout or self._background is None or self._static_key != self._background_key:
            fig.set_layout_engine("constrained" if self.relayout else "none")
            canvas.draw()  # animated artists are left out
            self._background = canvas.copy_from_bbox(fig.bbox)
            self._background_key = self._static_key
            self.relayout = False
        else:
            canvas.restore_region(self._background)
        for artist in self._dynamic:
            if artist.get_visible():
                fig.draw_artist(artist)
        buf = np.asarray(canvas.buffer_rgba())
        out = io.BytesIO()
        Image.fromarray(buf).save(out, format="png", compress_level=1)
        self.image.value = out.getvalue()

    def _draw(self, st, mode, xp, g, grad_x, grad_w, terms, value, step, s, p, cell, wcell):
        x, w = self._x, self._w
        h, wd = x.shape
        kh, kw = w.shape
        hp, wp = xp.shape
        ho, wo = g.shape
        # input x, padding grey
        shown = np.ma.masked_all((hp, wp))
        shown[p : p + h, p : p + wd] = x
        _frame(self.ax_x, (hp, wp))
        move_rect(self.border_x, p, p, h, wd)
        self.border_x.set_visible(p > 0)
        gmask = np.zeros((ho, wo), bool)
        for t in terms:
            gmask[t["grad_out"]] = True
        cells_g = self._show(self.im_g, g, DIVERGING, symmetric_limits(self._g_full))
        veil = _veil(gmask, 0.6)
        self.veil_g.set_data((veil * 255).astype(np.uint8))
        self.veil_g.set_extent((-0.5, wo - 0.5, ho - 0.5, -0.5))
        _frame(self.ax_g, (ho, wo))
        gr, gc = np.nonzero(st["grad_out_labelled"])
        a = veil[..., 3:4]
        seen = np.concatenate(
            [cells_g[..., :3] * (1 - a) + veil[..., :3] * a, cells_g[..., 3:]], -1
        )
        self._put(self.g_labels, g[gr, gc], gr, gc, seen)
        self.ax_g.title.set_text("dL/dy")

        if mode == "dL/dx":
            r, col = cell
            self._show(self.im_x, shown, SEQUENTIAL, self._xlim)
            move_rect(self.rect_x, r + p, col + p, 1, 1)
            self.rect_x.set_visible(True)
            self.ax_x.title.set_text(f"x, pixel ({r}, {col})")
            # the canvas: g dilated by s, padded by k-1, long enough for every input row
            canvas, kinds = st["work"], st["work_kinds"]
            canvas_view = np.ma.masked_array(canvas, mask=kinds != ENTRY)
            work = self._show(
                self.im_work,
                canvas_view,
                DIVERGING,
                symmetric_limits(self._g_full),
                inserted=kinds == INSERTED,
            )
            _frame(self.ax_work, canvas.shape)
            move_rect(self.rect_work, r + p, col + p, kh, kw)
            self.rect_work.set_visible(True)
            rr, cc = np.meshgrid(np.arange(kh) + r + p, np.arange(kw) + col + p, indexing="ij")
            win = canvas[rr, cc]
            self._put(self.work_labels, win, rr, cc, work)
            title = f"dL/dy dilated ×{s}, padded {kh - 1}" if s > 1 else f"dL/dy padded {kh - 1}"
            self.ax_work.title.set_text(title)
            key = "grey: padding" if s == 1 else "green: zeros the stride inserts · grey: padding"
            self.work_key.set_text(key)
            kern = w[::-1, ::-1]
            cells_k = self._show(self.im_k, kern, DIVERGING, symmetric_limits(w))
            _frame(self.ax_k, kern.shape)
            self.rect_k.set_visible(False)
            kr, kc = np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij")
            self._put(self.k_labels, kern, kr, kc, cells_k)
            self.ax_k.title.set_text("rot180(w)")
            res, rc, name = grad_x, cell, f"dL/dx[{r}, {col}]"
            pieces = [f"{_fmt(t['grad_value'])}·{_fmt(t['other_value'])}" for t in terms]
        else:
            m, n = wcell
            xmask = np.zeros((hp, wp), bool)
            for t in terms:
                xmask[t["input"][0] + p, t["input"][1] + p] = True
            self._show(self.im_x, shown, SEQUENTIAL, self._xlim, _veil(xmask))
            self.rect_x.set_visible(False)
            self.ax_x.title.set_text(f"x under w[{m}, {n}]")
            prods = np.array([t["product"] for t in terms]).reshape(ho, wo)
            work = self._show(self.im_work, prods, DIVERGING, symmetric_limits(prods))
            _frame(self.ax_work, prods.shape)
            self.rect_work.set_visible(False)
            if prods.size <= 25:
                pr, pc = np.meshgrid(np.arange(ho), np.arange(wo), indexing="ij")
                self._put(self.work_labels, prods, pr, pc, work)
            else:
                self._put(self.work_labels, [], [], [])
            self.ax_work.title.set_text("dL/dy × pixels")
            self.work_key.set_text("")
            cells_k = self._show(self.im_k, w, DIVERGING, symmetric_limits(w))
            _frame(self.ax_k, w.shape)
            move_rect(self.rect_k, m, n, 1, 1)
            self.rect_k.set_visible(True)
            kr, kc = np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij")
            self._put(self.k_labels, w, kr, kc, cells_k)
            self.ax_k.title.set_text("w")
            res, rc, name = grad_w, wcell, f"dL/dw[{m}, {n}]"
            pieces = [f"{_fmt(t['grad_value'])}·{_fmt(t['other_value'])}" for t in terms]
        fade = np.zeros((*res.shape, 4))
        fade.reshape(-1, 4)[step + 1 :] = _FADE
        cells_res = self._show(self.im_res, res, DIVERGING, symmetric_limits(res), fade)
        _frame(self.ax_res, res.shape)
        move_rect(self.rect_res, rc[0], rc[1], 1, 1)
        self._put([self.res_label], [value], [rc[0]], [rc[1]], cells_res)
        shown_terms = " + ".join(pieces[:6]) + (" + …" if len(pieces) > 6 else "")
        self.ax_res.title.set_text(f"{name} = {_fmt(value)}")
        self.readout.value = (
            '<span style="font-size:1.3em;font-family:monospace">'
            f'<span class="cnnlib-position">{name}</span> = {shown_terms or "0"} = '
            f'<span class="cnnlib-value" data-value="{value:.6g}">{_fmt(value)}</span></span>'
        )
