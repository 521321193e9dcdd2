"""Offline sample data: nothing here touches the network.

- ``grace_hopper()``: the photo of Grace Hopper that ships with matplotlib (512 x 600 RGB).
- ``digits()``: scikit-learn's 1,797 handwritten digits, 8 x 8, shipped with the package.
"""

from __future__ import annotations

import numpy as np

from cnnlib._validate import check_int


def grace_hopper(gray: bool = True, size: int | None = None) -> np.ndarray:
    """Return matplotlib's sample photo as floats in [0, 1].

    ``gray=True`` gives an ``(H, W)`` array (luma 0.299 R + 0.587 G + 0.114 B), otherwise
    ``(H, W, 3)``. ``size`` resizes the shorter side to ``size`` pixels (Lanczos), keeping the
    aspect ratio, for views that must stay fast.
    """
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        img = Image.open(f)
        img.load()
    if size is not None:
        size = check_int("size", size, 1)
        w, h = img.size
        scale = size / min(w, h)
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
    rgb = np.asarray(img, dtype=np.float64) / 255.0
    if gray:
        return rgb @ np.array([0.299, 0.587, 0.114])
    return rgb


def digits() -> tuple[np.ndarray, np.ndarray]:
    """Return scikit-learn's digits as ``(images, labels)``.

    ``images`` is ``(1797, 8, 8)`` float32 scaled to [0, 1] (the raw pixels are 0..16);
    ``labels`` is ``(1797,)`` int64.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32), d.target.astype(np.int64)


def checkerboard(size: int = 8, square: int = 1) -> np.ndarray:
    """Return a ``size x size`` checkerboard of 0/1 floats with squares of ``square`` pixels."""
    size = check_int("size", size, 1)
    square = check_int("square", square, 1)
    idx = np.arange(size) // square
    return ((idx[:, None] + idx[None, :]) % 2).astype(np.float64)
