"""SlidingKernel: a kernel slides over an image and writes one output number per position.

The view shows, left to right: the (zero-padded) input with the kernel's taps outlined, the
kernel, the products ``window * kernel`` and the output map, with the cell being written
outlined. What it draws is the definition (cross-correlation, as ``torch.nn.functional.conv2d``)

    output[i, j] = sum_{m, n} padded[i*s + m*d, j*s + n*d] * kernel[m, n] + bias,

with stride ``s``, dilation ``d`` and ``padded`` the input with ``padding`` zeros on every side.
The output map comes from :func:`cnnlib.conv.conv2d` and its size from
:func:`cnnlib.shapes.conv_output_size`; the highlighted window is recomputed directly from the
definition, so the picture shows both and they must agree. ``convolution_map`` and
``convolution_window`` compute what the view shows from the control values, without drawing.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from cnnlib._validate import check_array, check_choice
from cnnlib.conv import conv2d
from cnnlib.data import house
from cnnlib.plotting import (
    ACCENT,
    DIVERGING,
    HIGHLIGHT,
    SEQUENTIAL,
    move_rect,
    symmetric_limits,
    window_rect,
)
from cnnlib.shapes import conv_output_size
from cnnlib.widgets._blit import BlitView
from cnnlib.widgets._cells import (
    cell_grid,
    cell_mesh,
    fit_fontsize,
    make_labels,
    make_veil,
    padded_rgba,
    place_labels,
    place_veil,
    short_number,
    text_colors,
    update_mesh,
)
from cnnlib.widgets._position import RasterPosition

#: the preset kernels of the "kernel" dropdown (all 3 x 3)
PRESETS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "box blur": np.full((3, 3), 1.0 / 9.0),
    "Sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "Sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "Laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
}
CUSTOM = "custom"

#: largest image the view accepts: beyond this the cells are too small to read
MAX_IMAGE = 48
MAX_STRIDE = 3
MAX_PADDING = 3
MAX_DILATION = 3
#: milliseconds between two steps of the Play button
PLAY_INTERVAL = 700


def convolution_map(image: np.ndarray, kernel: np.ndarray, s: int, p: int, d: int) -> dict:
    """What a setting of the controls shows of the whole map (no drawing): ``padded`` (the image
    with ``p`` zeros on every side), ``conv`` (``cnnlib.conv.conv2d``, before the bias) and
    ``output_shape`` (``cnnlib.shapes.conv_output_size``)."""
    (h, w), (kh, kw) = image.shape, kernel.shape
    hp, wp = h + 2 * p, w + 2 * p
    eh, ew = d * (kh - 1) + 1, d * (kw - 1) + 1
    if eh > hp or ew > wp:
        raise ValueError(
            f"the dilated kernel ({eh} x {ew}) is larger than the padded input "
            f"({hp} x {wp}): lower the dilation or raise the padding"
        )
    return {
        "padded": np.pad(image, p),
        "conv": conv2d(image, kernel, stride=s, padding=p, dilation=d),
        "output_shape": conv_output_size((h, w), (kh, kw), s, p, d),
    }


def convolution_window(
    padded: np.ndarray, kernel: np.ndarray, s: int, d: int, bias: float, row: int, col: int
) -> dict:
    """Output cell ``(row, col)`` from the definition (no drawing): ``window_rows``,
    ``window_cols`` (the taps ``row*s + m*d``, ``col*s + n*d`` in ``padded``), ``window``,
    ``products`` (``window * kernel``), ``sum`` and ``output`` (the sum plus ``bias``)."""
    kh, kw = kernel.shape
    rows = row * s + d * np.arange(kh)
    cols = col * s + d * np.arange(kw)
    window = padded[np.ix_(rows, cols)]
    products = window * kernel
    total = float(products.sum())
    return {
        "window_rows": rows,
        "window_cols": cols,
        "window": window,
        "products": products,
        "sum": total,
        "output": total + bias,
    }


class SlidingKernel(RasterPosition, BlitView):
    """A kernel sliding over an image: window, products, sum plus bias, and the output map.

    Parameters
    ----------
    image:
        A 2-D array (at most ``48 x 48``) of finite real numbers; default :func:`cnnlib.data.house`.
    kernel:
        A 2-D array of finite real numbers no larger than the image (shown as "custom"), or the
        name of a preset in :data:`PRESETS`; default ``"Sobel x"``.
    bias:
        The number added to every sum.

    Controls: ``row``, ``col`` (the output cell), ``play`` (walks the output in raster order),
    ``stride``, ``padding``, ``dilation``, ``kernel`` (presets), ``bias``.
    """

    figsize = (12.0, 4.4)
    layout_rows = (("play", "row", "col"), ("kernel", "bias"), ("stride", "padding", "dilation"))
    widened_controls = ("dilation",)

    def __init__(
        self,
        image: Any = None,
        kernel: Any = None,
        bias: float = 0.0,
    ) -> None:
        self._image = self._check_image(image)
        h, w = self._image.shape
        # the dropdown offers the presets that fit in the image (all of them from 3 x 3 on)
        self._kernels = {n: k for n, k in PRESETS.items() if k.shape[0] <= h and k.shape[1] <= w}
        if isinstance(kernel, str):
            check_choice("kernel", kernel, tuple(PRESETS))
            if kernel not in self._kernels:
                raise ValueError(
                    f"kernel {kernel!r} (3 x 3) is larger than the image {h} x {w}; "
                    "pass a smaller kernel array"
                )
            self._initial_kernel = kernel
        elif kernel is not None:
            self._kernels[CUSTOM] = self._check_kernel(kernel, self._image.shape)
            self._initial_kernel = CUSTOM
        elif self._kernels:
            self._initial_kernel = "Sobel x"
        else:
            raise ValueError(
                f"image {h} x {w} is smaller than the 3 x 3 preset kernels: pass a kernel that "
                "fits, e.g. SlidingKernel(image, kernel=[[1, -1]])"
            )
        if isinstance(bias, bool) or not isinstance(bias, (int, float, np.integer, np.floating)):
            raise TypeError(f"bias must be a real number, got {bias!r} ({type(bias).__name__})")
        if not np.isfinite(bias):
            raise ValueError(f"bias must be finite, got {bias}")
        self._bias0 = float(bias)
        self._cache_key: tuple | None = None
        super().__init__()

    # -- argument checks ------------------------------------------------------------------
    @staticmethod
    def _check_image(image: Any) -> np.ndarray:
        if image is None:
            return house()
        arr = check_array("image", image, (2,)).astype(np.float64)
        if arr.shape[0] < 1 or arr.shape[1] < 1:
            raise ValueError(f"image must have at least one row and one column, got {arr.shape}")
        if max(arr.shape) > MAX_IMAGE:
            raise ValueError(
                f"image must be at most {MAX_IMAGE} x {MAX_IMAGE} pixels so that its cells stay "
                f"readable, got {arr.shape[0]} x {arr.shape[1]}; downsample it first"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError("image must contain only finite numbers (no NaN or infinity)")
        return arr

    @staticmethod
    def _check_kernel(kernel: Any, image_shape: tuple[int, ...]) -> np.ndarray:
        arr = check_array("kernel", kernel, (2,)).astype(np.float64)
        if arr.shape[0] < 1 or arr.shape[1] < 1:
            raise ValueError(f"kernel must have at least one row and one column, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("kernel must contain only finite numbers (no NaN or infinity)")
        if arr.shape[0] > image_shape[0] or arr.shape[1] > image_shape[1]:
            raise ValueError(
                f"kernel {arr.shape[0]} x {arr.shape[1]} is larger than the image "
                f"{image_shape[0]} x {image_shape[1]}"
            )
        if arr.size > 49:
            raise ValueError(f"kernel must have at most 7 x 7 = 49 taps, got shape {arr.shape}")
        return arr

    # -- the view -------------------------------------------------------------------------
    def _build(self) -> None:
        img = self._image
        h, w = img.shape
        bias_max = _nice_ceil(max(abs(self._bias0), float(np.max(np.abs(img)))))
        self.controls = {
            **self.position_controls(PLAY_INTERVAL),
            "kernel": widgets.Dropdown(
                options=list(self._kernels), value=self._initial_kernel, description="kernel"
            ),
            "bias": widgets.FloatSlider(
                value=self._bias0,
                min=-bias_max,
                max=bias_max,
                step=bias_max / 20,
                description="bias",
                readout_format=".2f",
            ),
            "stride": widgets.IntSlider(value=1, min=1, max=MAX_STRIDE, description="stride"),
            "padding": widgets.IntSlider(value=0, min=0, max=MAX_PADDING, description="padding"),
            "dilation": widgets.IntSlider(value=1, min=1, max=1, description="dilation"),
        }
        self._update_dilation_range()

        fig = self.figure
        axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [5.0, 2.6, 2.6, 4.4]})
        self.ax_in, self.ax_k, self.ax_p, self.ax_out = axes
        self._vmin, self._vmax = float(img.min()), float(img.max())
        if self._vmax == self._vmin:
            self._vmax = self._vmin + 1.0
        ntaps = max(k.size for k in self._kernels.values())

        # input: image (padding painted grey), image border, taps, tap labels
        self.im_in = cell_mesh(self.ax_in, (h, w), SEQUENTIAL)
        self.image_border = window_rect(self.ax_in, 0, 0, h, w, color=ACCENT, linewidth=1.5)
        self.image_border.set_linestyle("--")
        self.tap_rects = [
            window_rect(self.ax_in, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=2.5)
            for _ in range(ntaps)
        ]
        self.window_box = window_rect(self.ax_in, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=1.2)
        self.window_box.set_linestyle(":")
        self.in_labels = make_labels(self.ax_in, ntaps, 14)

        # kernel, products and their sum
        self.im_k = cell_mesh(self.ax_k, (3, 3), DIVERGING)
        self.k_labels = make_labels(self.ax_k, ntaps, 15)
        self.mesh_p = cell_mesh(self.ax_p, (3, 3), DIVERGING)
        self.p_labels = make_labels(self.ax_p, ntaps, 15)
        self.sum_text = self.ax_p.text(
            0.5,
            -0.06,
            "",
            transform=self.ax_p.transAxes,
            ha="center",
            va="top",
            fontsize=15,
            linespacing=1.4,
        )
        # output map, veil over cells not yet written, the current cell
        self.im_out = cell_mesh(self.ax_out, (1, 1), DIVERGING)
        for ax in axes:
            ax.set_aspect("equal")  # square cells
        self.veil = make_veil(self.ax_out)  # greys the cells not yet written
        self.out_rect = window_rect(self.ax_out, 0, 0, 1, 1, color=HIGHLIGHT, linewidth=3.0)
        self.out_label = make_labels(self.ax_out, 1, 14)[0]

        # a fixed title height (y=1) spares matplotlib a search for tick labels on each draw
        self.ax_k.set_title("kernel", fontsize=16, y=1.0)
        self.ax_p.set_title("window × kernel", fontsize=16, y=1.0)
        self.ax_in.set_title(" ", fontsize=16, y=1.0)
        self.ax_out.set_title(" ", fontsize=16, y=1.0)
        grids = [cell_grid(ax, (1, 1)) for ax in axes]
        # Layer 0 (everything not listed: the kernel panel, fixed titles) is redrawn when the
        # kernel changes; layer 1 (the input) also when the padding changes; layer 2 (the
        # output map) also when the stride, dilation or bias change; the last, on every update.
        self.set_layers(
            [self.im_in, grids[0], self.image_border, self.ax_in.title],
            [self.im_out],
            [
                *self.tap_rects,
                self.window_box,
                *self.in_labels,
                self.mesh_p,
                grids[2],
                *self.p_labels,
                self.sum_text,
                *self.veil,
                grids[3],
                self.out_rect,
                self.out_label,
                self.ax_out.title,
            ],
        )

    def _update_dilation_range(self) -> None:
        """Limit dilation so that the dilated kernel always fits in the unpadded image."""
        kh, kw = self._kernels[self.controls["kernel"].value].shape
        h, w = self._image.shape
        limits = [MAX_DILATION]
        for k, n in ((kh, h), (kw, w)):
            if k > 1:
                limits.append((n - 1) // (k - 1))
        self.controls["dilation"].max = max(1, min(limits))

    def _update(self) -> None:
        c = self.controls
        play_moved = self._play_moved()
        kernel_name = c["kernel"].value
        kernel = self._kernels[kernel_name]
        self._update_dilation_range()
        s, p, d = c["stride"].value, c["padding"].value, c["dilation"].value
        bias = float(c["bias"].value)
        img = self._image
        h, w = img.shape
        kh, kw = kernel.shape
        hp, wp = h + 2 * p, w + 2 * p
        eh, ew = d * (kh - 1) + 1, d * (kw - 1) + 1
        self.state = {
            "stride": s,
            "padding": p,
            "dilation": d,
            "kernel_name": kernel_name,
            "kernel": kernel.copy(),
            "bias": bias,
            "input_shape": (h, w),
            "padded_shape": (hp, wp),
        }
        key = (kernel_name, s, p, d, bias)
        if key != self._cache_key:
            if key[:4] != (self._cache_key or (None,))[:4]:
                try:
                    self._still = convolution_map(img, kernel, s, p, d)
                except ValueError:
                    self.readout.value = ""
                    self._cache_key = None
                    raise
                self._conv, self._padded = self._still["conv"], self._still["padded"]
            old = self._cache_key or (None,) * 5
            self._cache_key = key
            self._draw_still(kernel, p, bias, *self._still["output_shape"])
            self.redraw_from(0 if old[0] != kernel_name else 1 if old[2] != p else 2)
        oh, ow = self._still["output_shape"]
        out_map = self._conv + bias

        row, col, step = self._sync_position(play_moved, (oh, ow))
        now = convolution_window(self._padded, kernel, s, d, bias, row, col)
        rows, cols, window = now["window_rows"], now["window_cols"], now["window"]
        products, total, value = now["products"], now["sum"], now["output"]
        self.state.update(
            row=row,
            col=col,
            step=step,
            **now,
            output_map=out_map,
            output_shape=(oh, ow),
        )

        # input: the taps and the values under them
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        for k, rect in enumerate(self.tap_rects):
            rect.set_visible(k < rr.size)
            if k < rr.size:
                move_rect(rect, rr.flat[k], cc.flat[k], 1, 1)
        move_rect(self.window_box, rows[0], cols[0], eh, ew)
        self.window_box.set_visible(d > 1)
        in_pad = ((rr < p) | (rr >= p + h) | (cc < p) | (cc >= p + w)).ravel()
        colors = text_colors(window, self._vmin, self._vmax, diverging=False)
        colors = ["black" if pad else col_ for pad, col_ in zip(in_pad, colors, strict=True)]
        place_labels(self.in_labels, window, rr, cc, colors)

        # products, their sum, the output cell
        plim = symmetric_limits(products)
        self.mesh_p.set_array(products)
        self.mesh_p.set_clim(*plim)
        kr, kc = np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij")
        place_labels(self.p_labels, products, kr, kc, text_colors(products, *plim, True))
        self.sum_text.set_text(f"sum = {total:.4f}\n+ bias {bias:.4f}\n= {value:.4f}")
        place_veil(self.veil, row, col, (oh, ow))
        move_rect(self.out_rect, row, col, 1, 1)
        color = text_colors([value], *self._out_lim, True)
        place_labels([self.out_label], [value], [row], [col], color)
        self.ax_out.title.set_text(f"output[{row}, {col}] = {value:.4f}")
        self._show_position(row, col, value, f" = sum {total:.4f} + bias {bias:.4f}")

    def _draw_still(self, kernel: np.ndarray, p: int, bias: float, oh: int, ow: int) -> None:
        """Update what changes only with the kernel, stride, padding, dilation or bias."""
        h, w = self._image.shape
        hp, wp = self._padded.shape
        rgba = padded_rgba(self._image, p, SEQUENTIAL, self._vmin, self._vmax)
        self.im_in = update_mesh(self, self.im_in, rgba=rgba)
        cell_grid(self.ax_in, (hp, wp), lines=max(hp, wp) <= 32)
        longest = max(len(short_number(v)) for v in np.unique(self._padded))
        size = fit_fontsize(self.ax_in, (hp, wp), longest)
        for label in self.in_labels:
            label.set_fontsize(size)
        move_rect(self.image_border, p, p, h, w)
        self.image_border.set_visible(p > 0)
        self.ax_in.title.set_text(f"input {h} × {w}" + (f", padding {p}" if p else ""))

        kh, kw = kernel.shape
        klim = symmetric_limits(kernel)
        self.im_k = update_mesh(self, self.im_k, kernel, klim)
        cell_grid(self.ax_k, (kh, kw))
        kr, kc = np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij")
        place_labels(self.k_labels, kernel, kr, kc, text_colors(kernel, *klim, True))
        cell_grid(self.ax_p, (kh, kw))
        self.mesh_p = update_mesh(self, self.mesh_p, np.zeros((kh, kw)))
        # label sizes that fit every position: products of the input's extremes with each weight
        extremes = np.outer([self._padded.min(), self._padded.max()], kernel.ravel())
        for ax, labels, values in (
            (self.ax_k, self.k_labels, kernel),
            (self.ax_p, self.p_labels, extremes),
        ):
            longest = max(len(short_number(v)) for v in np.ravel(values))
            size = fit_fontsize(ax, (kh, kw), longest, largest=15.0)
            for label in labels:
                label.set_fontsize(size)

        out_map = self._conv + bias
        self._out_lim = symmetric_limits(out_map)
        self.im_out = update_mesh(self, self.im_out, out_map, self._out_lim)
        cell_grid(self.ax_out, (oh, ow), lines=max(oh, ow) <= 32)
        longest = max(len(short_number(v)) for v in (out_map.min(), out_map.max()))
        self.out_label.set_fontsize(fit_fontsize(self.ax_out, (oh, ow), longest))


def _nice_ceil(x: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50, ... (times a power of ten) that is >= x."""
    if not x > 0:
        return 1.0
    e = np.floor(np.log10(x))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10**e >= x * (1 - 1e-12):
            return float(m * 10**e)
    return float(10 ** (e + 1))
