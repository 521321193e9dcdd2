"""EquivarianceExplorer: shift the input, compare layer(shift(x)) with shift(layer(x)).

Property 1 says a convolution commutes with shifts. The view shows the shifted input, the two
sides of the equation and their difference, for a choice of layer: a convolution with zero or
circular padding, a strided convolution, max pooling, and max pooling made anti-aliased by a
blur before the subsampling (Zhang 2019). The relative error is
``cnnlib.equivariance.equivariance_error`` (the shift is circular, so only the layer can break
the equation); for layers with stride 2 the output is shifted by half the input shift, and
shifts that are not even have no whole-cell counterpart: that is where the error appears.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np

from cnnlib._validate import check_array
from cnnlib.conv import conv2d, max_pool2d
from cnnlib.data import default_image
from cnnlib.equivariance import (
    blur_pool2d,
    equivariance_error,
    interior_is_empty,
    output_shifts,
    shift,
)
from cnnlib.plotting import DIVERGING, SEQUENTIAL, symmetric_limits
from cnnlib.widgets._base import View
from cnnlib.widgets._cells import imshow

#: the 3 x 3 kernel of the convolution layers: an oblique edge detector (asymmetric on purpose)
KERNEL = np.array([[1.0, 2.0, 0.0], [2.0, 0.0, -2.0], [0.0, -2.0, -1.0]]) / 4.0
MAX_SHIFT = 8


def _max_pool_circular(x: np.ndarray, stride: int) -> np.ndarray:
    """2 x 2 max pooling whose windows wrap around the border (so only the stride breaks it)."""
    xp = np.concatenate([x, x[..., :1, :]], axis=-2)
    xp = np.concatenate([xp, xp[..., :, :1]], axis=-1)
    return max_pool2d(xp, 2, stride)


#: layer name -> (function of a 2-D array, its stride)
LAYERS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], int]] = {
    "conv, zero padding": (lambda x: conv2d(x, KERNEL, padding=1), 1),
    "conv, circular padding": (lambda x: conv2d(x, KERNEL, padding=1, padding_mode="circular"), 1),
    "strided conv (stride 2)": (
        lambda x: conv2d(x, KERNEL, stride=2, padding=1, padding_mode="circular"),
        2,
    ),
    "max pooling 2x2": (lambda x: max_pool2d(x, 2), 2),
    "blur + pooling": (lambda x: blur_pool2d(_max_pool_circular(x, 1), stride=2), 2),
}


def _frame(ax, shape: tuple[int, ...]) -> None:
    """Show ``shape`` cells with no ticks or frame (ticks cost more to draw than the image)."""
    ax.set_xlim(-0.5, shape[1] - 0.5)
    ax.set_ylim(shape[0] - 0.5, -0.5)
    ax.set_axis_off()


def equivariance_state(image: np.ndarray, name: str, dy: int, dx: int) -> dict:
    """What the view shows for a layer and a shift (no drawing), from ``cnnlib.equivariance``:
    ``f(shift(x))`` next to ``shift(f(x))`` for the nearer of the ``output_shifts`` (whole-map
    error, as ``equivariance_error`` measures it), the relative errors and the difference.
    Keys starting with ``_`` are for the drawing only (not part of the view's ``state``)."""
    f, stride = LAYERS[name]
    xs = shift(image, dy, dx)
    y = f(image)
    a = f(xs)
    best = None
    for oy in output_shifts(dy, stride):
        for ox in output_shifts(dx, stride):
            b = shift(y, oy, ox)
            err = float(np.linalg.norm(a - b))
            if best is None or err < best[0]:
                best = (err, (oy, ox), b)
    _, out_shift, b = best
    diff = a - b
    error = equivariance_error(f, image, dy, dx, stride=stride)
    margin = 1 if stride == 1 else 2
    # the interior drops |output shift| + margin cells at every border (for each candidate
    # output shift); on a small output or a large shift nothing is left: then it is n/a
    h, w = y.shape
    if interior_is_empty((h, w), dy, dx, (stride, stride), margin):
        interior = float("nan")
        note = (
            f"interior n/a: the output shift plus the layer's reach ({margin}) "
            f"covers the whole {h}×{w} output"
        )
    else:
        interior = equivariance_error(
            f, image, dy, dx, region="interior", margin=margin, stride=stride
        )
        note = f"interior {interior:.2e}"
    return {
        "layer": name,
        "shift": (dy, dx),
        "stride": stride,
        "output_shift": out_shift,
        "equivariance_error": error,
        "interior_error": interior,
        "max_abs_difference": float(np.max(np.abs(diff))),
        "shifted_output": a,
        "output_shifted": b,
        "_shifted_input": xs,
        "_diff": diff,
        "_note": note,
    }


class EquivarianceExplorer(View):
    """Does the layer commute with a shift? layer(shift(x)) next to shift(layer(x)).

    Parameters
    ----------
    image:
        A 2-D array with even sides between 8 and 64 (default: a 32 x 32 photo crop).

    Controls: ``shift_y``, ``shift_x`` (the circular shift of the input, in pixels), ``layer``.
    State: ``shift``, ``layer``, ``stride``, ``output_shift`` (the shift applied to the output),
    ``equivariance_error`` (relative, whole map), ``interior_error`` (relative, away from the
    borders; NaN when the shift and the layer's reach leave no interior cell, as on a small
    image), ``max_abs_difference``, ``shifted_output`` (layer(shift(x))), ``output_shifted``
    (shift(layer(x))).
    """

    figsize = (13.0, 3.9)
    layout_rows = (("layer",), ("shift_y", "shift_x"))

    def __init__(self, image: Any = None) -> None:
        if image is None:
            self._image = default_image()
        else:
            img = check_array("image", image, (2,)).astype(np.float64)
            h, w = img.shape
            if not (8 <= h <= 64 and 8 <= w <= 64) or h % 2 or w % 2:
                raise ValueError(f"image must have even sides between 8 and 64, got {img.shape}")
            if not np.all(np.isfinite(img)):
                raise ValueError("image must contain only finite numbers")
            self._image = img
        super().__init__()

    def _build(self) -> None:
        h, w = self._image.shape
        self.controls = {
            # wide enough for the longest name, "strided conv (stride 2)", at the view's scale
            "layer": widgets.Dropdown(
                options=list(LAYERS),
                value="conv, circular padding",
                description="layer",
                layout=self.scaled_width(300),
            ),
            "shift_y": widgets.IntSlider(
                value=0, min=-MAX_SHIFT, max=MAX_SHIFT, description="shift y"
            ),
            "shift_x": widgets.IntSlider(
                value=0, min=-MAX_SHIFT, max=MAX_SHIFT, description="shift x"
            ),
        }
        axes = self.figure.subplots(1, 4)
        self.ax_in, self.ax_a, self.ax_b, self.ax_d = axes
        lo, hi = float(self._image.min()), float(self._image.max())
        self.im_in = imshow(
            self.ax_in, self._image, cmap=SEQUENTIAL, vmin=lo, vmax=hi, interpolation="nearest"
        )
        self.im_a = imshow(self.ax_a, np.zeros((1, 1)), cmap=DIVERGING, interpolation="nearest")
        self.im_b = imshow(self.ax_b, np.zeros((1, 1)), cmap=DIVERGING, interpolation="nearest")
        self.im_d = imshow(self.ax_d, np.zeros((1, 1)), cmap=DIVERGING, interpolation="nearest")
        _frame(self.ax_in, (h, w))
        for ax in axes:
            # a fixed title position spares matplotlib a layout pass on every redraw
            ax.set_title(" ", y=1.0, pad=6, fontsize=16)
        self.ax_a.title.set_text("f(shift(x))")
        self._shape_key: tuple | None = None

    def _update(self) -> None:
        c = self.controls
        name = c["layer"].value
        dy, dx = int(c["shift_y"].value), int(c["shift_x"].value)
        st = equivariance_state(self._image, name, dy, dx)
        self.state = {k: v for k, v in st.items() if not k.startswith("_")}
        xs, a, b, diff = (
            st["_shifted_input"],
            st["shifted_output"],
            st["output_shifted"],
            st["_diff"],
        )
        error, out_shift, interior_text = st["equivariance_error"], st["output_shift"], st["_note"]

        self.im_in.set_data(xs)
        self.ax_in.title.set_text(f"shift(x), ({dy}, {dx})")
        both = np.concatenate([a.ravel(), b.ravel()])
        lim = symmetric_limits(both)
        # non-negative maps (pooling a photo) read better on the sequential map
        if both.min() >= 0:
            out_cmap, out_lim = SEQUENTIAL, (0.0, lim[1])
        else:
            out_cmap, out_lim = DIVERGING, lim
        for im, values in ((self.im_a, a), (self.im_b, b)):
            im.set_data(values)
            im.set_cmap(out_cmap)
            im.set_clim(*out_lim)
        self.im_d.set_data(diff)
        self.im_d.set_clim(*lim)
        key = a.shape
        if key != self._shape_key:
            for ax in (self.ax_a, self.ax_b, self.ax_d):
                _frame(ax, a.shape)
                for im in ax.images:
                    im.set_extent((-0.5, a.shape[1] - 0.5, a.shape[0] - 0.5, -0.5))
            self._shape_key = key
            self.relayout = True
        oy, ox = out_shift
        self.ax_b.title.set_text(f"shift(f(x)), ({oy}, {ox})")
        self.ax_d.title.set_text(f"difference: {error:.1e}")
        self.readout.value = (
            '<span style="font-size:1.4em;font-family:monospace">'
            f"{name}: relative equivariance error "
            f'<span class="cnnlib-value" data-value="{error:.3e}">{error:.2e}</span>'
            f" ({interior_text})</span>"
        )
