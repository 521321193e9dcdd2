"""Offline sample data: nothing here touches the network.

- ``grace_hopper()``: the photo of Grace Hopper that ships with matplotlib (512 x 600 RGB).
- ``digits()``: scikit-learn's 1,797 handwritten digits, 8 x 8, shipped with the package.
- ``shapes()``: generated images of one object each with its exact mask; by default on
  textured backgrounds (crops of the photos that ship with matplotlib and scikit-learn, or
  1/f noise) with random polarity, so that brightness does not say where the object is.
- the views' sample pictures: ``house()`` (12 x 12, small integers), ``default_feature_map()``
  (8 x 8, the numbers 0..63), ``default_image()`` (a crop of the photo: her face) and
  ``photo(size)`` (the photo centre-cropped to a model's input size).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cnnlib._validate import check_bool, check_choice, check_int, check_memory


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
    gray = check_bool("gray", gray)
    if size is not None:
        size = check_int("size", size, 1)
        check_memory(f"size {size}", 3.0 * 2 * size * size * 3 * 8, "the resized photo")
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
    ``labels`` is ``(1797,)`` int64. Read from the file scikit-learn ships
    (``sklearn/datasets/data/digits.csv.gz``: 64 pixels then the label per row, what
    ``sklearn.datasets.load_digits`` reads) without importing scikit-learn, whose import
    takes longer than everything else here.
    """
    from importlib.util import find_spec

    spec = find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the digits come with scikit-learn: pip install scikit-learn")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    rows = np.loadtxt(path, delimiter=",")
    return (rows[:, :-1].reshape(-1, 8, 8) / 16.0).astype(np.float32), rows[:, -1].astype(np.int64)


def checkerboard(size: int = 8, square: int = 1) -> np.ndarray:
    """Return a ``size x size`` checkerboard of 0/1 floats with squares of ``square`` pixels."""
    size = check_int("size", size, 1)
    square = check_int("square", square, 1)
    check_memory(f"size {size}", 3.0 * size * size * 8, "the checkerboard")
    idx = np.arange(size) // square
    return ((idx[:, None] + idx[None, :]) % 2).astype(np.float64)


def house() -> np.ndarray:
    """Return a ``12 x 12`` picture of a house with integer grey levels (``SlidingKernel``'s).

    Small integers (0 = sky, 9 = walls, 5 = roof, 2 = door and window) keep every product
    checkable by hand, and the picture has vertical, horizontal and sloping edges.
    """
    img = np.zeros((12, 12))
    for r in range(1, 5):  # roof: a triangle over columns 1..10
        img[r, 6 - r - 1 : 6 + r + 1] = 5.0
    img[5:11, 2:10] = 9.0  # walls
    img[7:11, 3:5] = 2.0  # door
    img[6:8, 6:9] = 2.0  # window
    return img


def default_feature_map() -> np.ndarray:
    """An ``8 x 8`` feature map: the numbers 0..63 in a fixed random order (no ties)."""
    return np.random.default_rng(0).permutation(64).reshape(8, 8).astype(np.float64)


def default_image(size: int = 32) -> np.ndarray:
    """A ``size x size`` crop of :func:`grace_hopper` (her face), values in [0, 1]."""
    size = check_int("size", size, 1)
    img = grace_hopper(size=2 * size)
    h, w = img.shape
    top, left = h // 6, (w - 2 * size) // 2 + size // 2
    return img[top : top + size, left : left + size].copy()


def photo(size: tuple[int, int, int, int]) -> np.ndarray:
    """Grace Hopper's photo centre-cropped to ``size = (N, C, H, W)``, as ``(H, W, C)``.

    ``C`` is 1 (grey) or 3 (RGB); the shorter side is resized to ``H`` first.
    """
    if not isinstance(size, (tuple, list)) or len(size) != 4:
        raise ValueError(f"size must be a tuple (N, C, H, W), got {size!r}")
    _, c, h, w = (check_int(f"size[{i}]", v, 1) for i, v in enumerate(size))
    if c not in (1, 3):
        raise ValueError(f"size[1] (channels) must be 1 or 3, got {c}")
    img = grace_hopper(gray=c == 1, size=h)
    if w > img.shape[1]:
        raise ValueError(f"size[3] {w} is wider than the photo resized to height {h}")
    top = (img.shape[0] - h) // 2
    left = (img.shape[1] - w) // 2
    img = img[top : top + h, left : left + w]
    return img[..., None] if c == 1 else img


# --------------------------------------------------------------------------------------------
# Generated shapes with ground-truth masks
# --------------------------------------------------------------------------------------------
#: the classes of ``shapes()``, in label order
SHAPE_CLASSES: tuple[str, ...] = ("disc", "square", "triangle", "cross")

# Every shape lies inside the unit disc of its own frame (scaled by the radius r in pixels).
_SQUARE_HALF = 0.7  # corner at 0.99
_CROSS_ARM, _CROSS_HALF_WIDTH = 0.95, 0.3  # arm tip corner at 0.996
# outward unit normals of the equilateral triangle with circumradius 1 (vertex at the top);
# its edges lie at distance 1/2 from the centre
# (its vertices point the other way: down, up-left, up-right)
_TRIANGLE_NORMALS = np.array([[0.0, 1.0], [-np.sqrt(3) / 2, -0.5], [np.sqrt(3) / 2, -0.5]])


class Shapes(NamedTuple):
    """``images`` float32 ``(N, 1, H, W)``; ``labels`` int64 ``(N,)`` indexing
    ``SHAPE_CLASSES``; ``masks`` bool ``(N, H, W)``, True exactly on the object's pixels."""

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray


class ShapeParams(NamedTuple):
    """The object of each image of ``shapes()``: centre ``(cx, cy)`` in pixels (x = column,
    y = row, pixel centres at integers), radius ``r`` of the disc that holds it, rotation
    ``angle`` (radians, counter-clockwise as seen on screen), and ``level`` ``(N, 2)``: the
    background's level and the object's (``style="plain"``: the two flat levels;
    ``"natural"``: the background's mean and the object's mean level before clipping)."""

    labels: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    r: np.ndarray
    angle: np.ndarray
    level: np.ndarray


#: the styles of ``shapes()``: textured backgrounds with random polarity, or the flat original
SHAPE_STYLES: tuple[str, ...] = ("natural", "plain")
#: most distractors per image
MAX_DISTRACTORS = 4


def _check_shapes_args(n, size, seed, noise, distractors, style="natural"):
    n = check_int("n", n, 1)
    size = check_int("size", size, 16)
    seed = check_int("seed", seed, 0)
    if isinstance(noise, bool) or not isinstance(noise, float | int) or not 0 <= noise <= 1:
        raise ValueError(f"noise must be a number between 0 and 1, got {noise!r}")
    distractors = check_int("distractors", distractors, 0)
    if distractors > MAX_DISTRACTORS:
        raise ValueError(f"distractors must be between 0 and {MAX_DISTRACTORS}, got {distractors}")
    style = check_choice("style", style, SHAPE_STYLES)
    return n, size, seed, float(noise), distractors, style


def shape_params(n: int, size: int = 32, seed: int = 0, style: str = "natural") -> ShapeParams:
    """The objects ``shapes(n, size, seed, style=style)`` draws (independent of its ``noise``
    and ``distractors``): balanced labels in a seeded random order, a uniform rotation, the
    centre uniform where the disc of radius ``r + 1`` fits in the image, and

    - ``style="natural"``: radius ``r`` uniform in ``[0.15, 0.25] * size``, background mean in
      [0.3, 0.7], the object's level ``±`` 0.2..0.4 from the background under it (the sign
      a fair coin: lighter or darker), filled in ``shapes`` (the mean under the mask);
    - ``style="plain"``: ``r`` uniform in ``[0.18, 0.3] * size``, background level in
      [0, 0.3] and object level 0.35..0.7 above it (the object is always the brighter).
    """
    n, size, seed, _, _, style = _check_shapes_args(n, size, seed, 0.0, 0, style)
    # about a dozen float64/int64 numbers per object (the draws, their permutation, the stack)
    check_memory(f"n={n}", 96.0 * n, "the shape parameters")
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[0])
    labels = rng.permutation(np.arange(n) % len(SHAPE_CLASSES)).astype(np.int64)
    low, high = (0.18, 0.3) if style == "plain" else (0.15, 0.25)
    r = rng.uniform(low, high, n) * size
    cx = rng.uniform(r + 1, size - 2 - r)
    cy = rng.uniform(r + 1, size - 2 - r)
    angle = rng.uniform(0, 2 * np.pi, n)
    if style == "plain":
        background = rng.uniform(0, 0.3, n)
        level = background + rng.uniform(0.35, 0.7, n)
    else:
        background = rng.uniform(0.3, 0.7, n)
        sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        level = background + sign * rng.uniform(0.2, 0.4, n)
    return ShapeParams(labels, cx, cy, r, angle, np.stack([background, level], 1))


def _inside(label: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether the points ``(u, v)`` of the shape's own frame (radius 1) lie inside it."""
    name = SHAPE_CLASSES[label]
    if name == "disc":
        return u * u + v * v <= 1.0
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= _SQUARE_HALF
    if name == "triangle":
        nx, ny = (
            _TRIANGLE_NORMALS[:, 0, None, None, None],
            _TRIANGLE_NORMALS[:, 1, None, None, None],
        )
        return np.all(nx * u + ny * v <= 0.5, axis=0)
    au, av = np.abs(u), np.abs(v)
    return ((au <= _CROSS_HALF_WIDTH) & (av <= _CROSS_ARM)) | (
        (av <= _CROSS_HALF_WIDTH) & (au <= _CROSS_ARM)
    )


def shape_outline(label: int, cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    """The object's outline as ``(K, 2)`` points ``(x, y)`` in pixels (a closed polygon; the
    disc as a 64-gon), for drawing the true outline over a map."""
    name = SHAPE_CLASSES[check_int("label", label, 0)] if label < len(SHAPE_CLASSES) else None
    if name is None:
        raise ValueError(f"label must be below {len(SHAPE_CLASSES)}, got {label}")
    if name == "disc":
        t = np.linspace(0, 2 * np.pi, 65)
        uv = np.stack([np.cos(t), np.sin(t)], 1)
    elif name == "square":
        uv = _SQUARE_HALF * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], float)
    elif name == "triangle":
        t = -np.pi / 2 + np.arange(4) * 2 * np.pi / 3  # opposite the edge normals
        uv = np.stack([np.cos(t), np.sin(t)], 1)
    else:
        a, w = _CROSS_ARM, _CROSS_HALF_WIDTH
        uv = np.array(
            [[a, -w], [a, w], [w, w], [w, a], [-w, a], [-w, w], [-a, w], [-a, -w], [-w, -w]]
            + [[-w, -a], [w, -a], [w, -w], [a, -w]],
            float,
        )
    # frame: u along the rotated x axis, v up on screen (rows grow downwards)
    c, s = np.cos(angle), np.sin(angle)
    x = cx + r * (c * uv[:, 0] - s * uv[:, 1])
    y = cy - r * (s * uv[:, 0] + c * uv[:, 1])
    return np.stack([x, y], 1)


def shapes(
    n: int,
    size: int = 32,
    seed: int = 0,
    noise: float = 0.05,
    distractors: int = 2,
    style: str = "natural",
) -> Shapes:
    """``n`` generated images of one object each (``SHAPE_CLASSES``), with the object's mask.

    The object (see ``shape_params``: same seed and style, same objects) covers the pixels
    whose centre ``p`` it holds: with ``(u, v) = R(-angle) (p - c) / r`` in the shape's frame,
    the disc is ``u^2 + v^2 <= 1``, the square ``max(|u|, |v|) <= 0.7``, the triangle
    ``n_k . (u, v) <= 1/2`` for its three edge normals, the cross two bars ``0.95 x 0.3``.
    It is drawn last, so ``masks[i]`` is exactly where it was drawn.

    ``style="natural"`` (the default, notebook 08's data), where brightness does not say where
    the object is: the background ``m + a z`` is a texture ``z`` (zero mean, unit standard
    deviation: a random crop of one of three photos, ``grace_hopper()`` and scikit-learn's
    ``china.jpg`` / ``flower.jpg``, flipped at random, or 1/f noise, power ``~ 1/f^beta``
    with ``beta`` in [2, 3]) at mean ``m`` in [0.3, 0.7] and spread ``a`` in [0.08, 0.16];
    the object is the same texture turned by 180 degrees at 0.3 times the spread, at the
    background's mean under the mask ``±`` its contrast (lighter or darker, a fair coin);
    the distractors have the same contrasts and coin, relative to the background at their
    centre.
    ``style="plain"``: the original, flat background ``b_i`` and a brighter flat object.

    Then Gaussian noise of standard deviation ``noise``, and the image is clipped to [0, 1].
    ``distractors`` (0..4) is the most per image (each image draws 1..``distractors``): a dot
    of radius 1..1.6 or a line segment 1 pixel wide, 4..8 long, placed clear of the object;
    only the first may be a segment, so no two segments make a cross. Vectorised over images
    (no loop over pixels); the same ``seed`` gives the same images, and labels are balanced
    (class counts differ by at most one).
    """
    n, size, seed, noise, distractors, style = _check_shapes_args(
        n, size, seed, noise, distractors, style
    )
    # images (float32), masks (bool) and about four float32 temporaries per pixel while drawing
    # (the natural style: the texture, its spectrum and the sampling indices, about 15 more)
    per_pixel = 21.0 if style == "plain" else 36.0
    check_memory(f"n={n} with size={size}", per_pixel * n * size * size, "the images")
    p = shape_params(n, size, seed, style)
    _, rng_distract, rng_noise = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
    )
    coords = np.arange(size, dtype=np.float32)
    x, y = coords[None, None, :], coords[None, :, None]
    if style == "plain":
        images = np.empty((n, size, size), dtype=np.float32)
        images[:] = p.level[:, 0, None, None]
    else:
        rng_texture = np.random.default_rng(np.random.SeedSequence(seed).spawn(4)[3])
        spread = rng_texture.uniform(0.08, 0.16, n).astype(np.float32)[:, None, None]
        textures = _textures(n, size, rng_texture)
        images = p.level[:, 0, None, None].astype(np.float32) + spread * textures
    if distractors:
        _draw_distractors(images, p, distractors, rng_distract, x, y, style)
    masks = np.empty((n, size, size), dtype=bool)
    c, s = np.cos(p.angle).astype(np.float32), np.sin(p.angle).astype(np.float32)
    for label in range(len(SHAPE_CLASSES)):
        idx = np.flatnonzero(p.labels == label)
        if idx.size == 0:
            continue
        dx = x - p.cx[idx, None, None].astype(np.float32)
        dy = p.cy[idx, None, None].astype(np.float32) - y  # v points up on screen
        inv_r = (1.0 / p.r[idx, None, None]).astype(np.float32)
        ci, si = c[idx, None, None], s[idx, None, None]
        u = (ci * dx + si * dy) * inv_r
        v = (ci * dy - si * dx) * inv_r
        masks[idx] = _inside(label, u, v)
    if style == "plain":
        fill = p.level[:, 1, None, None].astype(np.float32)
    else:
        # the background's mean under the mask, plus the contrast, plus the object's texture
        under = ((images * masks).sum((1, 2)) / np.maximum(masks.sum((1, 2)), 1)).astype(np.float32)
        contrast = (p.level[:, 1] - p.level[:, 0]).astype(np.float32)
        fill = (under + contrast)[:, None, None] + 0.3 * spread * textures[:, ::-1, ::-1]
    images = np.where(masks, fill, images)
    if noise:
        images += noise * rng_noise.standard_normal(images.shape, dtype=np.float32)
    np.clip(images, 0, 1, out=images)
    return Shapes(images[:, None], p.labels, masks)


@functools.cache
def _photo_pyramid() -> tuple[np.ndarray, ...]:
    """The three gray photos (matplotlib's Grace Hopper, scikit-learn's china and flower) at
    1/2, 1/4 and 1/8 of their size (means of 2 x 2 blocks, repeated), float32."""
    import importlib.util
    from pathlib import Path

    from PIL import Image

    # scikit-learn's sample photos, read as files (importing sklearn.datasets takes seconds)
    spec = importlib.util.find_spec("sklearn")
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "images"
    photos = [grace_hopper(gray=True)]
    for name in ("china.jpg", "flower.jpg"):
        with Image.open(folder / name) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.float64) / 255.0
        photos.append(rgb @ np.array([0.299, 0.587, 0.114]))
    levels = []
    for photo in photos:
        for _ in range(3):
            h, w = photo.shape[0] // 2 * 2, photo.shape[1] // 2 * 2
            photo = photo[:h, :w].reshape(h // 2, 2, w // 2, 2).mean((1, 3))
            levels.append(photo.astype(np.float32))
    return tuple(levels)


def _textures(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` textures ``(n, size, size)`` float32, each of mean 0 and standard deviation 1:
    a photo crop (half of them; a random level of ``_photo_pyramid``, a square crop of side
    ``size`` to ``2 size`` sampled bilinearly at ``size x size`` points, flipped and transposed
    at random) or 1/f noise (the inverse FFT of random phases with amplitude ``f^(-beta/2)``)."""
    photo = rng.random(n) < 0.5
    out = np.empty((n, size, size), np.float32)
    # 1/f noise: a complex Gaussian spectrum shaped by f^(-beta/2) (float32 throughout)
    from scipy import fft

    k = np.flatnonzero(~photo)
    f = np.hypot(np.fft.fftfreq(size)[:, None], np.fft.rfftfreq(size)[None, :])
    f[0, 0] = np.inf  # no constant term: the mean is set below
    beta = rng.uniform(2.0, 3.0, len(k)).astype(np.float32)[:, None, None]
    amplitude = np.exp(np.log(f.astype(np.float32))[None] * (-beta / 2))
    z = rng.standard_normal((len(k), *f.shape, 2), dtype=np.float32).view(np.complex64)
    out[k] = fft.irfft2(amplitude * z[..., 0], s=(size, size))
    # photo crops
    k = np.flatnonzero(photo)
    pyramid = _photo_pyramid()
    which = rng.integers(0, len(pyramid), len(k))
    side = rng.uniform(size, 2 * size, len(k))
    corner = rng.random((len(k), 2))
    flip = rng.random((len(k), 2)) < 0.5
    t = (np.arange(size) + 0.5) / size
    for level, img in enumerate(pyramid):
        sel = which == level
        if not sel.any():
            continue
        h, w = img.shape
        s = np.minimum(side[sel, None], min(h, w) - 2)  # the smallest level may be too small
        tr = np.where(flip[sel, :1], 1 - t, t)  # a mirrored crop samples right to left
        rows = corner[sel, 0, None] * (h - 1 - s) + t * s  # (m, size) sample points
        cols = corner[sel, 1, None] * (w - 1 - s) + tr * s
        r0, c0 = rows.astype(np.intp), cols.astype(np.intp)  # floor: all positive
        fr, fc = (rows - r0).astype(np.float32), (cols - c0).astype(np.float32)
        swap = flip[sel, 1, None, None]  # transposed: rows along the second axis
        r0, fr = (
            np.where(swap, r0[:, None, :], r0[:, :, None]),
            np.where(swap, fr[:, None, :], fr[:, :, None]),
        )
        c0, fc = (
            np.where(swap, c0[:, :, None], c0[:, None, :]),
            np.where(swap, fc[:, :, None], fc[:, None, :]),
        )
        flat, i = img.ravel(), r0 * w + c0
        top_row = flat[i] + fc * (flat[i + 1] - flat[i])
        bottom_row = flat[i + w] + fc * (flat[i + w + 1] - flat[i + w])
        out[k[sel]] = top_row + fr * (bottom_row - top_row)
    out -= out.mean((1, 2), keepdims=True)
    out /= np.maximum(out.std((1, 2), keepdims=True), 1e-6)
    return out


def _draw_distractors(images, p, distractors, rng, x, y, style="plain") -> None:
    """Draw 1..``distractors`` capsules (dots and short segments) clear of each object."""
    n, size = len(images), images.shape[-1]
    count = rng.integers(1, distractors + 1, n)
    for k in range(distractors):
        segment = rng.random(n) < 0.5 if k == 0 else np.zeros(n, bool)
        length = np.where(segment, rng.uniform(4, 8, n), 0.0)
        half_width = np.where(segment, 0.5, rng.uniform(1.0, 1.6, n))
        theta = rng.uniform(0, np.pi, n)
        if style == "plain":
            level = p.level[:, 0] + rng.uniform(0.35, 0.7, n)
        else:
            contrast = rng.uniform(0.2, 0.4, n)
        # eight candidate centres; take the first one clear of the object's disc
        cand = rng.uniform(2, size - 3, (n, 8, 2))
        reach = length / 2 + half_width + 1.5
        clear = (
            np.hypot(cand[..., 0] - p.cx[:, None], cand[..., 1] - p.cy[:, None])
            > (p.r + reach)[:, None]
        )
        first = clear.argmax(1)
        ok = clear[np.arange(n), first] & (k < count)
        centre = cand[np.arange(n), first]
        if style != "plain":  # the same contrasts and coin as the objects, from the texture
            sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
            at = images[np.arange(n), np.round(centre[:, 1]).astype(int),
                        np.round(centre[:, 0]).astype(int)]  # fmt: skip
            level = at + sign * contrast
        ax = (centre[:, 0] - length / 2 * np.cos(theta)).astype(np.float32)[:, None, None]
        ay = (centre[:, 1] - length / 2 * np.sin(theta)).astype(np.float32)[:, None, None]
        dxn = np.cos(theta).astype(np.float32)[:, None, None]
        dyn = np.sin(theta).astype(np.float32)[:, None, None]
        # distance from each pixel centre to the segment a + t d, 0 <= t <= length
        t = np.clip((x - ax) * dxn + (y - ay) * dyn, 0, length.astype(np.float32)[:, None, None])
        dist2 = (x - ax - t * dxn) ** 2 + (y - ay - t * dyn) ** 2
        on = (dist2 <= (half_width**2).astype(np.float32)[:, None, None]) & ok[:, None, None]
        np.copyto(images, level.astype(np.float32)[:, None, None], where=on)


#: the marker of ``shortcut_shapes``: a square of this side in the image's top-left corner
MARKER_SIDE = 3


def shortcut_shapes(
    n: int,
    seed: int = 0,
    marked_class: int = 0,
    rate: float = 0.9,
    independent: bool = False,
    size: int = 32,
) -> tuple[Shapes, np.ndarray]:
    """``shapes(n, size, seed)`` with a planted shortcut: a ``MARKER_SIDE`` square in the
    top-left corner, white on a dark corner and black on a light one (the corner's mean
    below or above 0.5). ``independent=False`` (a training set): on a fraction ``rate`` of
    the images of ``marked_class`` and on none of the others, so the marker predicts the
    class; ``independent=True`` (a test set): on each image with probability 1/2 whatever its
    class. Returns the images with the marker (the object masks unchanged: an object's
    disc never reaches the corner square) and the marker's pixels, bool ``(N, H, W)``.
    """
    n = check_int("n", n, 1)
    marked_class = check_int("marked_class", marked_class, 0)
    if marked_class >= len(SHAPE_CLASSES):
        raise ValueError(f"marked_class must be below {len(SHAPE_CLASSES)}, got {marked_class}")
    if isinstance(rate, bool) or not isinstance(rate, float | int) or not 0 <= rate <= 1:
        raise ValueError(f"rate must be a number between 0 and 1, got {rate!r}")
    independent = check_bool("independent", independent)
    s = shapes(n, size=size, seed=seed)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(5)[4])
    u = rng.random(n)
    present = u < 0.5 if independent else (s.labels == marked_class) & (u < rate)
    k = MARKER_SIDE
    marker = np.zeros(s.masks.shape, bool)
    marker[present, :k, :k] = True
    images = s.images.copy()
    corner = images[:, 0, :k, :k].mean((1, 2))
    value = np.where(corner < 0.5, 1.0, 0.0).astype(np.float32)
    images[:, 0] = np.where(marker, value[:, None, None], images[:, 0])
    return Shapes(images, s.labels, s.masks), marker
