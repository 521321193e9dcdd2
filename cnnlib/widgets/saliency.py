"""SaliencyView: which pixels does the network's score for a class depend on, and is it right?

Pick an image, a target class and a method; the view shows the image with the object's true
outline, the method's map (``cnnlib.explain``: the gradient, gradient × input, integrated
gradients, occlusion, CAM, Grad-CAM) and the map laid over the image, with the map's peak
marked. With a mask it plays the pointing game (Zhang et al. 2016): a hit when the peak falls
on the object. Maps are computed once per (image, target, method) and cached.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch

from cnnlib._validate import check_bool_array
from cnnlib.explain import pointing_game
from cnnlib.plotting import ACCENT, DIVERGING, HIGHLIGHT, SEQUENTIAL, colormap, symmetric_limits
from cnnlib.widgets._fastdraw import BlitView, GlyphText, imshow
from cnnlib.widgets._trained import (
    check_model_and_images,
    default_model_and_images,
    single_threaded,
)

#: the methods of the dropdown: words -> method of cnnlib.explain.attribution_map
METHODS: dict[str, str] = {
    "gradient (saliency)": "saliency",
    "gradient × input": "gradient_x_input",
    "integrated gradients": "integrated_gradients",
    "occlusion": "occlusion",
    "CAM": "cam",
    "Grad-CAM": "grad_cam",
}
#: a dropdown of class names up to this many classes, a number box beyond
MAX_CLASS_NAMES = 30
#: maps kept in the cache (a 224 x 224 map is 200 kB)
CACHE_SIZE = 600

_READOUT = (
    '<div style="font-family:monospace;font-size:15px;line-height:1.45;'
    'white-space:pre-wrap">{}</div>'
)


def outline_segments(mask: np.ndarray) -> np.ndarray:
    """The boundary of a boolean ``(H, W)`` mask as line segments between pixel cells:
    ``(S, 2, 2)`` points ``(x, y)`` (pixel centres at integers, as ``imshow`` draws)."""
    m = np.pad(np.asarray(mask, dtype=bool), 1)
    i, j = np.nonzero(m[:, 1:] != m[:, :-1])  # between padded columns j and j + 1
    x, r = j - 0.5, i - 1.0
    vertical = np.stack([np.c_[x, r - 0.5], np.c_[x, r + 0.5]], axis=1)
    i, j = np.nonzero(m[1:, :] != m[:-1, :])  # between padded rows i and i + 1
    y, c = i - 0.5, j - 1.0
    horizontal = np.stack([np.c_[c - 0.5, y], np.c_[c + 0.5, y]], axis=1)
    return np.concatenate([vertical, horizontal]).astype(float)


def broken_line(segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(S, 2, 2)`` segments as the x and y of one line, a NaN after each segment."""
    pts = np.concatenate([segments, np.full((len(segments), 1, 2), np.nan)], axis=1)
    return pts[..., 0].ravel(), pts[..., 1].ravel()


class SaliencyView(BlitView):
    """An image, a target class and a method: the map, its peak and the object's true outline.

    Parameters
    ----------
    model:
        A ``torch.nn.Module`` classifier with a ``Conv2d`` (CAM needs global average pooling
        and one linear layer at the end); default the trained shapes network.
    images:
        ``(N, C, H, W)`` or ``(C, H, W)`` images the model takes; default its test images.
    masks:
        Boolean ``(N, H, W)`` (or ``(H, W)``) object masks for the pointing game, or None.

    Controls: ``image``, ``target`` (class), ``method``. ``state``: ``image``, ``target``,
    ``method`` (the words) and ``function`` (its name in ``cnnlib.explain``), ``map`` (``(H, W)``),
    ``peak`` (row, col), ``hit`` (the peak is on the object; None without a mask),
    ``prediction``, ``probability``, ``label`` (the true class, if known).
    """

    figsize = (12.0, 4.4)
    layout_rows = (("image", "target", "method"),)

    def __init__(self, model: Any = None, images: Any = None, masks: Any = None) -> None:
        labels = None
        classes: tuple[str, ...] | None = None
        if model is None and images is None and masks is None:
            model, images, labels, masks, classes = default_model_and_images()
        elif model is None or images is None:
            d_model, d_images, d_labels, d_masks, d_classes = default_model_and_images()
            if model is None:
                model, classes = d_model, d_classes
            if images is None:
                images, labels = d_images, d_labels
                masks = d_masks if masks is None else masks
        self._model, self._x = check_model_and_images(model, images)
        self._masks = self._check_masks(masks, self._x)
        self._labels = None if labels is None else np.asarray(labels)
        with torch.no_grad():
            logits = self._model(self._x[:1])
        if logits.dim() != 2:
            raise ValueError(
                f"model must return class scores (N, classes), got shape {tuple(logits.shape)}"
            )
        n_classes = logits.shape[1]
        self._classes = (
            classes if classes is not None else tuple(f"class {k}" for k in range(n_classes))
        )
        self._cache: dict[tuple, np.ndarray] = {}
        self._predictions: dict[int, tuple[int, float]] = {}
        super().__init__()

    @staticmethod
    def _check_masks(masks: Any, x: torch.Tensor) -> np.ndarray | None:
        if masks is None:
            return None
        m = check_bool_array("masks", masks, (2, 3))
        if m.ndim == 2:
            m = m[None]
        n, _, h, w = x.shape
        if m.shape != (n, h, w):
            raise ValueError(f"masks must have shape (N, H, W) = {(n, h, w)}, got {m.shape}")
        return m

    # -- data ---------------------------------------------------------------------------
    def prediction(self, image: int) -> tuple[int, float]:
        """The predicted class of image ``image`` and its softmax probability."""
        if image not in self._predictions:
            with torch.no_grad():
                p = torch.softmax(self._model(self._x[image : image + 1]), dim=1)[0]
            k = int(p.argmax())
            self._predictions[image] = (k, float(p[k]))
        return self._predictions[image]

    def saliency_map(self, image: int, target: int, method: str) -> np.ndarray:
        """The ``(H, W)`` map of ``method`` (a key of :data:`METHODS`) at the image's resolution
        (:func:`cnnlib.explain.attribution_map`), cached."""
        key = (image, target, method)
        if key not in self._cache:
            from cnnlib.explain import attribution_map

            x = self._x[image : image + 1]
            m = attribution_map(self._model, x, target, METHODS[method])[0]
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = np.asarray(m, dtype=float)
        return self._cache[key]

    # -- the view -----------------------------------------------------------------------
    def _build(self) -> None:
        n = len(self._x)
        first = int(self._labels[0]) if self._labels is not None else self.prediction(0)[0]
        if len(self._classes) <= MAX_CLASS_NAMES:
            target = widgets.Dropdown(
                options=[(name, k) for k, name in enumerate(self._classes)],
                value=first,
                description="target",
            )
        else:
            target = widgets.BoundedIntText(
                value=first, min=0, max=len(self._classes) - 1, description="target class"
            )
        self.controls = {
            "image": widgets.IntSlider(value=0, min=0, max=n - 1, description="image"),
            "target": target,
            # wide enough for "integrated gradients" at any scale
            "method": widgets.Dropdown(
                options=list(METHODS),
                value="gradient (saliency)",
                description="method",
                layout=self.scaled_width(300),
            ),
        }
        fig = self.figure
        self.ax_img, self.ax_map, self.ax_over = fig.subplots(1, 3)
        blank = np.zeros((2, 2))
        self.img_ims = [
            imshow(ax, blank, cmap="gray", interpolation="nearest")
            for ax in (self.ax_img, self.ax_over)
        ]
        self.map_im = imshow(self.ax_map, blank, cmap=SEQUENTIAL, interpolation="nearest")
        self.over_im = self.ax_over.imshow(np.zeros((2, 2, 4)), interpolation="bilinear", zorder=2)
        self.outlines = []
        for ax in (self.ax_img, self.ax_map, self.ax_over):
            ax.set_xticks([])
            ax.set_yticks([])
            # one line broken by NaNs: ~20x faster to update than a LineCollection's paths
            (lines,) = ax.plot([], [], color=ACCENT, linewidth=2.0, zorder=3,
                               solid_capstyle="projecting", scalex=False, scaley=False)  # fmt: skip
            self.outlines.append(lines)
        self.peaks = [
            ax.plot([], [], marker="X", markersize=14, color=HIGHLIGHT, markeredgecolor="white",
                    markeredgewidth=1.5, linestyle="none", zorder=4)[0]
            for ax in (self.ax_map, self.ax_over)
        ]  # fmt: skip
        self.titles = [
            ax.add_artist(GlyphText(0.5, 1.02, "", transform=ax.transAxes, ha="center",
                                    va="bottom", fontsize=13, clip_on=False))
            for ax in (self.ax_img, self.ax_map, self.ax_over)
        ]  # fmt: skip
        # the maps change with every control; the outlines go on top of them
        self.set_layers(
            [*self.img_ims, self.outlines[0], self.titles[0]],
            [self.map_im, self.over_im, *self.outlines[1:], *self.peaks, *self.titles[1:]],
        )
        self._shown_image: int | None = None

    @single_threaded
    def _update(self) -> None:
        c = self.controls
        image, target, method = c["image"].value, int(c["target"].value), c["method"].value
        if not 0 <= target < len(self._classes):
            raise ValueError(f"target must be a class between 0 and {len(self._classes) - 1}")
        pred, prob = self.prediction(image)
        label = None if self._labels is None else int(self._labels[image])
        mask = None if self._masks is None else self._masks[image]
        if image != self._shown_image:
            self._draw_image(image, mask, label)
            self._shown_image = image
            self.redraw_from(1)
        m = self.saliency_map(image, target, method)
        h, w = self._x.shape[-2:]
        peak = tuple(int(i) for i in np.unravel_index(int(np.argmax(m)), m.shape))
        hit = None if mask is None else pointing_game(m, mask)
        signed = bool(np.min(m) < 0)
        lim = symmetric_limits(m) if signed else (0.0, float(np.max(m)) or 1.0)
        # coloured here (uint8): resampled faster than values through a colormap, same pixels
        span = lim[1] - lim[0] or 1.0
        cmap = colormap(DIVERGING if signed else SEQUENTIAL)
        self.map_im.set_data(cmap((m - lim[0]) / span, bytes=True))
        extent = (-0.5, w - 0.5, h - 0.5, -0.5)
        self.map_im.set_extent(extent)
        scaled = np.clip((m - lim[0]) / (lim[1] - lim[0] or 1.0), 0, 1)
        rgba = colormap(DIVERGING if signed else "inferno")(scaled)
        strength = np.abs(2 * scaled - 1) if signed else scaled
        rgba[..., 3] = 0.8 * strength
        self.over_im.set_data((255 * rgba).round().astype(np.uint8))  # uint8: resampled 2x faster
        self.over_im.set_extent(extent)
        for line in self.peaks:
            line.set_data([peak[1]], [peak[0]])
        verdict = "" if hit is None else ("  ✓ on the object" if hit else "  ✗ off the object")
        self.titles[1].set_text(f"{method}")
        self.titles[2].set_text(f"overlay: peak{verdict}")
        self.state = {
            "image": image,
            "target": target,
            "target_name": self._classes[target],
            "method": method,
            "function": METHODS[method],
            "map": m,
            "peak": peak,
            "hit": hit,
            "prediction": pred,
            "probability": prob,
            "label": label,
        }
        lines = [
            f"network says  {self._classes[pred]} ({100 * prob:.1f} %)"
            + ("" if label is None else f";  true class: {self._classes[label]}"),
            f"map of        {method} for the score of '{self._classes[target]}'",
            f"peak          row {peak[0]}, column {peak[1]}"
            + (
                ""
                if hit is None
                else f":  {'on' if hit else 'off'} the object (pointing game "
                f"{'hit' if hit else 'miss'})"
            ),
        ]
        self.readout.value = _READOUT.format(html.escape("\n".join(lines)))

    def _draw_image(self, image: int, mask: np.ndarray | None, label: int | None) -> None:
        x = self._x[image].numpy()
        if x.shape[0] == 3:
            lo, hi = x.min(), x.max()
            pic = ((x - lo) / (hi - lo if hi > lo else 1.0)).transpose(1, 2, 0)
            grey = pic @ np.array([0.299, 0.587, 0.114])
        else:
            pic = grey = x[0]
        h, w = grey.shape
        extent = (-0.5, w - 0.5, h - 0.5, -0.5)
        self.img_ims[0].set_data(pic)
        self.img_ims[0].set_clim(float(np.min(grey)), float(np.max(grey)))
        self.img_ims[1].set_data(grey)
        self.img_ims[1].set_clim(float(np.min(grey)), float(np.max(grey)))
        for im in self.img_ims:
            im.set_extent(extent)
        for ax in (self.ax_img, self.ax_map, self.ax_over):
            ax.set_xlim(-0.5, w - 0.5)
            ax.set_ylim(h - 0.5, -0.5)
        segs = outline_segments(mask) if mask is not None else np.zeros((0, 2, 2))
        xs, ys = broken_line(segs)
        for lines in self.outlines:
            lines.set_data(xs, ys)
        name = f"image {image}" + ("" if label is None else f": {self._classes[label]}")
        self.titles[0].set_text(name + (", true outline" if mask is not None else ""))
