"""What the views of a trained network share (no view imports another): the default trained
shapes network and its test images, the check of a learner's model and images, and running
torch on one thread while a view computes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnlib._validate import check_array


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """The ``Conv2d`` modules of ``model`` with their paths, in registration order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def single_threaded(method: Callable) -> Callable:
    """Run ``method`` with torch on one thread, then restore the caller's thread count.

    A view's forward and backward passes are tiny (one image, or 50 for integrated
    gradients): with two threads on a busy machine they took 10-25 times longer than on one.
    """

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        threads = torch.get_num_threads()
        if threads == 1:
            return method(*args, **kwargs)
        torch.set_num_threads(1)
        try:
            return method(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return wrapper


def check_model_and_images(
    model: Any, images: Any, name: str = "images"
) -> tuple[nn.Module, torch.Tensor]:
    """``model`` (an ``nn.Module`` with a ``Conv2d``) and ``images`` as a float32 ``(N, C, H, W)``
    tensor that goes through it; ``TypeError``/``ValueError`` naming the argument otherwise."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    convs = conv_layers(model)
    if not convs:
        raise ValueError(
            f"model must contain at least one nn.Conv2d layer, {type(model).__name__} has none"
        )
    arr = check_array(name, images, (3, 4))
    if arr.ndim == 3:
        arr = arr[None]
    if arr.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one image, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    c = convs[0][1].in_channels
    if arr.shape[1] != c:
        raise ValueError(
            f"{name} must have {c} channel{'s' * (c != 1)} (N, {c}, H, W) as the "
            f"model's first convolution takes, got shape {arr.shape}"
        )
    x = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    if isinstance(model, nn.Conv2d):  # a lone layer: give it a module path ("0")
        model = nn.Sequential(model)
    model.eval()
    try:
        with torch.no_grad():
            model(x[:1])
    except RuntimeError as exc:
        raise ValueError(
            f"{name} of shape {tuple(arr.shape)} cannot go through the model: {exc}"
        ) from None
    return model, x


def default_model_and_images() -> tuple[nn.Module, np.ndarray, np.ndarray, np.ndarray, tuple]:
    """The trained shapes network and the first ``TEST_IMAGES`` of its test set:
    ``(model, images, labels, masks, class names)``."""
    from cnnlib.data import SHAPE_CLASSES
    from cnnlib.training import trained_shapes_cnn

    run = trained_shapes_cnn()
    test = run.test
    n = TEST_IMAGES
    return run.model, test.images[:n], test.labels[:n], test.masks[:n], tuple(SHAPE_CLASSES)


#: the default views show the first this many test images of the trained shapes network
TEST_IMAGES = 48
