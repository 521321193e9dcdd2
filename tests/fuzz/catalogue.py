"""What the fuzz suite calls: one ``Spec`` per public function or view constructor.

``public_callables()`` lists every public callable of every public cnnlib module (a module's
``__all__``, or its non-underscore callables defined there; the views of
``cnnlib.widgets.VIEWS``). ``test_catalogue_covers_every_public_callable`` fails until each is
in ``SPECS`` or in ``SKIPPED`` with a reason, so a new function is fuzzed or its omission is
written down. A ``Spec`` names one valid call and a strategy for each argument; arguments
that are not fuzzed go in ``skip`` with a reason (``test_spec_covers_every_argument``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

import cnnlib
from cnnlib import (
    architectures,
    backprop,
    conv,
    data,
    equivariance,
    explain,
    params,
    receptive,
    shapes,
    training,
)

from .strategies import (
    Bad,
    Case,
    Edge,
    Same,
    arrays,
    bool_arrays,
    callables,
    choices,
    flags,
    int_tuples,
    ints,
    junk,
    modules,
    reals,
    shape_tuples,
    sizes,
)


@dataclass
class Spec:
    fn: Callable
    call: dict
    args: dict[str, st.SearchStrategy[Case]]
    skip: dict[str, str] = field(default_factory=dict)
    reference: Callable | None = None
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_examples: int = 120
    #: what of the result a ``Same`` value must reproduce (a view: its ``state``)
    project: Callable = staticmethod(lambda result: result)
    #: ``check(result, context)``: what every result must satisfy (see ``harness.outcome``)
    check: Callable | None = None
    #: a torch default device for the calls: ``"meta"`` builds big models without memory
    device: str | None = None

    @property
    def name(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__qualname__}"


def qualname(obj: object) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def public_callables() -> dict[str, object]:
    """``"module.name" -> callable`` for every public callable of every public module."""
    found: dict[str, object] = {}
    for info in pkgutil.walk_packages(cnnlib.__path__, "cnnlib."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        mod = importlib.import_module(info.name)
        if info.name == "cnnlib.widgets":
            for view in mod.VIEWS:
                obj = getattr(mod, view)
                found[qualname(obj)] = obj
            continue
        if info.name.startswith("cnnlib.widgets."):
            continue  # one view per module: the views above are the package's API
        names = getattr(mod, "__all__", None)
        if names is None:
            names = [n for n in vars(mod) if not n.startswith("_")]
        for n in names:
            obj = getattr(mod, n)
            if callable(obj) and getattr(obj, "__module__", None) == mod.__name__:
                found[qualname(obj)] = obj
    return found


# -- references -----------------------------------------------------------------------------------
def _t(a) -> torch.Tensor:
    a = np.asarray(a, dtype=np.float64)
    return torch.from_numpy(a.reshape((1,) * (4 - a.ndim) + a.shape))


def _untorch(y: torch.Tensor, like) -> np.ndarray:
    return y.numpy().reshape(y.shape[4 - np.ndim(like) :])


def ref_conv2d(
    x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"
):
    x4, w = _t(x), torch.from_numpy(np.asarray(weight, dtype=np.float64))
    if np.ndim(x) == 2:
        w = w[None, None]
    b = None if bias is None else torch.from_numpy(np.asarray(bias, dtype=np.float64)).reshape(-1)
    if padding_mode != "zeros" and not isinstance(padding, str):
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        x4 = F.pad(x4, (pw, pw, ph, ph), mode=padding_mode)
        padding = 0
    return _untorch(F.conv2d(x4, w, b, stride, padding, dilation, groups), x)


def ref_max_pool2d(
    x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    out = F.max_pool2d(_t(x), kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    if return_indices:
        return _untorch(out[0], x), _untorch(out[1], x)
    return _untorch(out, x)


def ref_avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _untorch(
        F.avg_pool2d(_t(x), kernel_size, stride, padding, ceil_mode, count_include_pad), x
    )


# -- the catalogue -------------------------------------------------------------------------------
RNG = np.random.default_rng(0)
X2 = RNG.standard_normal((6, 7))
X4 = RNG.standard_normal((2, 4, 6, 7))
W4 = RNG.standard_normal((4, 2, 3, 2))
K2 = RNG.standard_normal((3, 2))
X16 = RNG.standard_normal((1, 16, 5, 5))
W16 = RNG.standard_normal((2, 16, 3, 3))

_POOL_SIZES = {"kernel_size": sizes(1), "stride": sizes(1), "padding": sizes(0)}
_CONV_ARGS = {
    "x": arrays(X4, (2, 3, 4)),
    "weight": arrays(W4, (4,)),
    "bias": arrays(np.ones(4), (1,)),
    "stride": sizes(1),
    # an int padding is legal: choices' "not a string" 0 is not bad here
    "padding": st.one_of(sizes(0), choices(("valid", "same")).filter(lambda c: c.value != 0)),
    "dilation": sizes(1),
    "groups": ints(1),
    "padding_mode": choices(conv.PADDING_MODES),
}

SPECS: list[Spec] = [
    Spec(
        conv.conv2d,
        dict(x=X4, weight=W4, groups=2, bias=np.ones(4)),
        _CONV_ARGS,
        reference=ref_conv2d,
    ),
    # >= 16 channels per group: the BLAS (shift) path
    Spec(
        conv.conv2d,
        dict(x=X16, weight=W16, padding=1),
        {**_CONV_ARGS, "x": arrays(X16, (2, 3, 4)), "weight": arrays(W16, (4,))},
        reference=ref_conv2d,
    ),
    Spec(
        conv.conv2d_naive,
        dict(x=X4, weight=W4, groups=2, bias=np.ones(4)),
        _CONV_ARGS,
        reference=ref_conv2d,
        max_examples=20,
    ),
    Spec(
        conv.convolve2d,
        dict(x=X2, kernel=K2),
        {
            "x": arrays(X2, (2,)),
            "kernel": arrays(K2, (2,)),
            "mode": choices(("full", "valid", "same")),
        },
    ),
    Spec(
        conv.max_pool2d,
        dict(x=X4, kernel_size=3, stride=2, padding=1, dilation=1),
        {
            "x": arrays(X4, (2, 3, 4)),
            **_POOL_SIZES,
            "dilation": sizes(1),
            "ceil_mode": flags(),
            "return_indices": flags(),
        },
        reference=ref_max_pool2d,
    ),
    Spec(
        conv.avg_pool2d,
        dict(x=X4, kernel_size=3, stride=2, padding=1),
        {
            "x": arrays(X4, (2, 3, 4)),
            **_POOL_SIZES,
            "ceil_mode": flags(),
            "count_include_pad": flags(),
        },
        reference=ref_avg_pool2d,
    ),
    Spec(
        conv.pad2d,
        dict(x=X4, padding=(1, 2)),
        {
            "x": arrays(X4, (2, 3, 4)),
            "padding": sizes(0),
            "mode": choices(conv.PADDING_MODES),
            "value": reals(),
        },
    ),
    # -- shapes
    *[
        Spec(
            fn,
            dict(size=7, kernel_size=3),
            {
                "size": sizes(1),
                "kernel_size": sizes(1),
                "stride": sizes(1),
                "padding": sizes(0),
                "dilation": sizes(1),
            },
        )
        for fn in (shapes.conv_output_size, shapes.explain_conv_output_size)
    ],
    *[
        Spec(
            fn,
            dict(size=7, kernel_size=3),
            {
                "size": sizes(1),
                "kernel_size": sizes(1),
                "stride": sizes(1),
                "padding": sizes(0),
                "dilation": sizes(1),
                "ceil_mode": flags(),
            },
        )
        for fn in (shapes.pool_output_size, shapes.explain_pool_output_size)
    ],
    *[
        Spec(
            fn,
            dict(size=7, kernel_size=3, stride=2),
            {
                "size": sizes(1),
                "kernel_size": sizes(1),
                "stride": sizes(1),
                "padding": sizes(0),
                "output_padding": sizes(0),
                "dilation": sizes(1),
            },
        )
        for fn in (shapes.conv_transpose_output_size, shapes.explain_conv_transpose_output_size)
    ],
    Spec(shapes.same_padding, dict(kernel_size=3), {"kernel_size": sizes(1), "dilation": sizes(1)}),
    Spec(
        shapes.conv_grid,
        dict(size=7, kernel_size=3, stride=2, padding=1),
        {
            "size": ints(1),
            "kernel_size": ints(1),
            "stride": ints(1),
            "padding": ints(0),
            "dilation": ints(1),
            "transposed": flags(),
            "output_padding": ints(0),
        },
    ),
    # -- params
    Spec(
        params.conv2d_params,
        dict(in_channels=4, out_channels=6, kernel_size=3, groups=2),
        {
            "in_channels": ints(1),
            "out_channels": ints(1),
            "kernel_size": sizes(1),
            "bias": flags(),
            "groups": ints(1),
        },
    ),
    Spec(
        params.conv2d_macs,
        dict(in_channels=4, out_channels=6, kernel_size=3, output_size=5, groups=2),
        {
            "in_channels": ints(1),
            "out_channels": ints(1),
            "kernel_size": sizes(1),
            "output_size": sizes(1),
            "groups": ints(1),
        },
    ),
    Spec(
        params.linear_params,
        dict(in_features=4, out_features=6),
        {"in_features": ints(1), "out_features": ints(1), "bias": flags()},
    ),
    Spec(params.count_params, dict(model=torch.nn.Conv2d(3, 4, 3)), {"model": modules()}),
    Spec(
        params.count_macs,
        dict(model=torch.nn.Conv2d(3, 4, 3), input_size=(1, 3, 8, 8)),
        {"model": modules(), "input_size": shape_tuples((1, 3, 8, 8))},
        max_examples=20,
    ),
    Spec(
        params.summary,
        dict(model=torch.nn.Conv2d(3, 4, 3), input_size=(1, 3, 8, 8)),
        {"model": modules(), "input_size": shape_tuples((1, 3, 8, 8))},
        max_examples=20,
    ),
    # -- backprop
    Spec(
        backprop.torch_max_pool_backward_is_safe,
        dict(input_size=(7, 7), kernel_size=3, stride=2, padding=1, dilation=2),
        {"input_size": sizes(1), **_POOL_SIZES, "dilation": sizes(1), "ceil_mode": flags()},
    ),
    Spec(backprop.rot180, dict(weight=W4), {"weight": arrays(W4, (2, 3, 4))}),
    Spec(
        backprop.dilate,
        dict(grad=X4, stride=2),
        {"grad": arrays(X4, (2, 3, 4)), "stride": sizes(1)},
    ),
    Spec(
        backprop.conv2d_backward,
        dict(grad_out=np.ones((2, 4, 4, 6)), x=X4, weight=W4, groups=2),
        {
            "grad_out": arrays(np.ones((2, 4, 4, 6)), (2, 3, 4)),
            "x": arrays(X4, (2, 3, 4)),
            "weight": arrays(W4, (2, 4)),
            "stride": sizes(1),
            "padding": sizes(0),
            "dilation": sizes(1),
            "groups": ints(1),
        },
    ),
    Spec(
        backprop.gradient_terms,
        dict(grad_out=np.ones((6, 8)), x=X4[0, 0], weight=K2, cell=(1, 2), wrt="x", padding=1),
        {
            "grad_out": arrays(np.ones((6, 8)), (2,)),
            "x": arrays(X4[0, 0], (2,)),
            "weight": arrays(K2, (2,)),
            "cell": sizes(0),
            "wrt": choices(("x", "weight")),
            "stride": ints(1),
            "padding": ints(0),
        },
    ),
    Spec(
        backprop.max_pool2d_backward,
        dict(grad_out=np.ones((2, 4, 4, 4)), x=X4, kernel_size=2, stride=2, padding=1),
        {
            "grad_out": arrays(np.ones((2, 4, 4, 4)), (2, 3, 4)),
            "x": arrays(X4, (2, 3, 4)),
            **_POOL_SIZES,
            "dilation": sizes(1),
            "ceil_mode": flags(),
        },
    ),
    Spec(
        backprop.avg_pool2d_backward,
        dict(grad_out=np.ones((2, 4, 4, 4)), x=X4, kernel_size=2, stride=2, padding=1),
        {
            "grad_out": arrays(np.ones((2, 4, 4, 4)), (2, 3, 4)),
            "x": arrays(X4, (2, 3, 4)),
            **_POOL_SIZES,
            "ceil_mode": flags(),
            "count_include_pad": flags(),
        },
    ),
    Spec(
        backprop.numerical_gradient,
        dict(f=lambda a: float((a**2).sum()), x=X2[:2, :3], eps=1e-4),
        {
            "x": arrays(X2[:2, :3], tuple(range(0, 9))),
            "eps": reals(positive=True),
            "f": callables(),
        },
    ),
    # -- equivariance
    Spec(
        equivariance.shift,
        dict(x=X2, dy=1, dx=-2),
        {
            "x": arrays(X2, (2, 3, 4, 5)),
            "dy": ints(),
            "dx": ints(),
            "mode": choices(equivariance.SHIFT_MODES),
        },
    ),
    Spec(
        equivariance.interior_is_empty,
        dict(shape=(8, 8), dy=1, dx=1, stride=(1, 1), margin=1),
        {"shape": sizes(1), "dy": ints(), "dx": ints(), "stride": sizes(1), "margin": ints(0)},
    ),
    Spec(equivariance.output_shifts, dict(d=3, stride=2), {"d": ints(), "stride": ints(1)}),
    Spec(equivariance.binomial_filter, dict(size=3), {"size": ints(1)}),
    Spec(
        equivariance.blur_pool2d,
        dict(x=X4, stride=2, filter_size=3),
        {
            "x": arrays(X4, (2, 3, 4)),
            "stride": ints(1),
            "filter_size": ints(1),
            "padding_mode": choices(("circular", "zeros", "reflect")),
        },
    ),
    Spec(receptive.erf_moments, dict(erf=np.abs(X2)), {"erf": arrays(np.abs(X2), (2,))}),
    Spec(
        equivariance.equivariance_error,
        dict(f=lambda a: a * 2.0, x=X2, dy=1, dx=2, region="interior", margin=1, stride=1),
        {
            "x": arrays(X2, (2, 3, 4, 5)),
            "dy": ints(),
            "dx": ints(),
            "mode": choices(equivariance.SHIFT_MODES),
            "region": choices(("full", "interior")),
            "margin": ints(0),
            "stride": sizes(1),
            "f": callables(),
        },
    ),
    Spec(
        equivariance.shift_consistency,
        dict(classifier=lambda b: b.reshape(len(b), -1)[:, :3], images=X4[:, :2], shifts=2, seed=0),
        {
            "images": arrays(X4[:, :2], (3, 4)),
            "shifts": ints(0),
            "mode": choices(equivariance.SHIFT_MODES),
            "seed": ints(0),
            "classifier": callables(),
        },
    ),
    Spec(
        equivariance.accuracy_by_shift,
        dict(
            classifier=lambda b: b.reshape(len(b), -1)[:, :3],
            images=X4[:, :2],
            labels=np.array([0, 2]),
            shifts=[(0, 1), (1, -2)],
        ),
        {
            "images": arrays(X4[:, :2], (3, 4)),
            "mode": choices(equivariance.SHIFT_MODES),
            "classifier": callables(),
        },
        skip={
            "labels": "integer labels, one per image: their rules are tested in "
            "test_equivariance.py",
            "shifts": "(dy, dx) pairs as shift_consistency's list form: tested in "
            "test_equivariance.py",
        },
    ),
    Spec(
        equivariance.conv2d_matrix,
        dict(weight=K2, input_shape=(4, 5), stride=1, padding=1),
        {
            "weight": arrays(K2, (2,)),
            "input_shape": sizes(1),
            "stride": sizes(1),
            "padding": sizes(0),
            "padding_mode": choices(("zeros", "circular")),
        },
    ),
    Spec(
        backprop.gradient_check,
        dict(f=lambda a: float((a**2).sum()), x=X2[:2, :3], analytic=2 * X2[:2, :3], eps=1e-4),
        {
            "x": arrays(X2[:2, :3], tuple(range(0, 9))),
            "analytic": arrays(2 * X2[:2, :3], tuple(range(0, 9))),
            "eps": reals(positive=True),
            "tiny": reals(positive=True),
            "f": callables(),
        },
        project=lambda r: r.error,
    ),
    Spec(
        receptive.receptive_field,
        dict(layers=[(3, 1, 1), (2, 2)]),
        {
            "layers": st.one_of(
                junk(),
                st.sampled_from(
                    [
                        Bad([(3, 0)], "stride 0"),
                        Bad([(3, 1, -1)], "negative padding"),
                        Bad([(1.5, 1)], "float kernel"),
                        Bad(3, "not a list"),
                        Bad([(True, 1)], "bool"),
                    ]
                ),
            )
        },
    ),
    Spec(
        receptive.unit_windows,
        dict(layers=[(3, 1, 1), (2, 2)], unit=1, n_in=8),
        {
            "layers": st.one_of(
                junk(),
                st.sampled_from(
                    [
                        Bad([(3, 0)], "stride 0"),
                        Bad([(3, 1, -1)], "negative padding"),
                        Bad([(1.5, 1)], "float kernel"),
                        Bad([((3, 3), 1)], "a pair: one axis only"),
                        Bad(3, "not a list"),
                    ]
                ),
            ),
            "unit": ints(0),
            "n_in": ints(1),
        },
    ),
    Spec(
        receptive.receptive_field_of,
        dict(module=torch.nn.Conv2d(3, 4, 3), input_size=(1, 3, 8, 8)),
        {"module": modules(), "input_size": shape_tuples((1, 3, 8, 8)), "per_layer": flags()},
        max_examples=25,
    ),
    # -- data
    Spec(
        data.grace_hopper,
        dict(gray=True, size=8),
        {"gray": flags(), "size": ints(1)},
        max_examples=15,
    ),
    Spec(data.default_image, dict(size=8), {"size": ints(1)}, max_examples=15),
    Spec(
        data.photo,
        dict(size=(1, 3, 16, 16)),
        {"size": shape_tuples((1, 3, 16, 16))},
        max_examples=15,
    ),
    Spec(data.checkerboard, dict(size=8, square=2), {"size": ints(1), "square": ints(1)}),
]


# -- newer modules: im2col, generated shapes, invariance, explanations
def _tiny_cnn() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(3, 2),
    ).eval()


TINY = _tiny_cnn()
IMG = RNG.standard_normal((1, 1, 8, 8))
_EXPLAIN = {"model": modules(), "x": arrays(IMG, (2, 3, 4)), "target": ints(0)}
SPECS += [
    Spec(
        conv.im2col,
        dict(x=X4[0], kernel_size=3, stride=1, padding=1),
        {
            "x": arrays(X4[0], (2, 3)),
            "kernel_size": sizes(1),
            "stride": sizes(1),
            "padding": sizes(0),
            "dilation": sizes(1),
        },
    ),
    Spec(
        conv.col2im,
        dict(cols=np.ones((4 * 9, 6 * 7)), input_shape=(4, 6, 7), kernel_size=3, padding=1),
        {
            "cols": arrays(np.ones((1, 4 * 9, 6 * 7)), (2, 3)),
            "input_shape": shape_tuples((1, 4, 6, 7)),
            "kernel_size": sizes(1),
            "stride": sizes(1),
            "padding": sizes(0),
            "dilation": sizes(1),
        },
    ),
    Spec(
        data.shapes,
        dict(n=2, size=16, seed=0),
        {
            "n": ints(1),
            "size": ints(1),
            "seed": ints(0),
            "noise": reals(),
            "distractors": ints(0),
            "style": choices(data.SHAPE_STYLES),
        },
        project=lambda r: r.images,
        max_examples=40,
    ),
    Spec(
        data.shortcut_shapes,
        dict(n=2, seed=0),
        {
            "n": ints(1),
            "seed": ints(0),
            "marked_class": ints(0),
            "rate": reals(),
            "independent": flags(),
            "size": ints(1),
        },
        project=lambda r: r[1],
        max_examples=40,
    ),
    Spec(
        data.shape_params,
        dict(n=2, size=16, seed=0),
        {"n": ints(1), "size": ints(1), "seed": ints(0), "style": choices(data.SHAPE_STYLES)},
        project=lambda r: r.labels,
        max_examples=40,
    ),
    Spec(
        equivariance.invariance_error,
        dict(f=lambda a: a.max(axis=(-2, -1), keepdims=True), x=X2, dy=1, dx=2),
        {
            "f": callables(),
            "x": arrays(X2, (2, 3, 4, 5)),
            "dy": ints(),
            "dx": ints(),
            "mode": choices(equivariance.SHIFT_MODES),
        },
    ),
    Spec(
        equivariance.pooling_invariance,
        dict(images=X4[:, 0, :6, :6], kernel_sizes=[2], shifts=[1]),
        {
            "images": arrays(X4[:, 0, :6, :6], (3,)),
            "kernel_sizes": st.one_of(junk(), st.just(Bad([0], "zero"))),
            "shifts": st.one_of(junk(), st.just(Bad([1.5], "float"))),
            "kind": choices(("max", "avg")),
        },
        project=lambda r: sorted(r),
    ),
    *[
        Spec(fn, dict(model=TINY, x=IMG, target=1), _EXPLAIN, max_examples=40)
        for fn in (explain.saliency, explain.gradient_x_input, explain.cam)
    ],
    Spec(
        explain.grad_cam,
        dict(model=TINY, x=IMG, target=1),
        {**_EXPLAIN, "layer": choices(("0",)), "relu": flags()},
        max_examples=40,
    ),
    Spec(
        explain.occlusion,
        dict(model=TINY, x=IMG, target=1, patch=4, stride=2),
        {**_EXPLAIN, "patch": sizes(1), "stride": sizes(1), "baseline": reals()},
        max_examples=40,
    ),
    Spec(
        explain.integrated_gradients,
        dict(model=TINY, x=IMG, target=1, steps=8),
        {
            **_EXPLAIN,
            "baseline": reals(),
            "steps": ints(1),
            "method": choices(("gausslegendre", "riemann_trapezoid")),
        },
        max_examples=40,
    ),
    Spec(explain.upsample, dict(maps=X2, size=12), {"maps": arrays(X2, (2, 3)), "size": sizes(1)}),
    Spec(explain.heatmap, dict(attribution=X4[0]), {"attribution": arrays(X4[0], (3, 4))}),
    Spec(
        explain.pointing_game,
        dict(maps=X2, masks=X2 > 0),
        {
            "maps": arrays(X2, (2, 3)),
            "masks": bool_arrays(X2 > 0, (2, 3)),
            "tolerance": reals(),
            "on_grid": flags(),
        },
    ),
    Spec(
        explain.rank_correlation,
        dict(a=X2, b=X2**2),
        {"a": arrays(X2, (2, 3)), "b": arrays(X2**2, (2, 3))},
    ),
    Spec(
        explain.mass_in_mask,
        dict(maps=X2, masks=X2 > 0),
        {"maps": arrays(X2, (2, 3)), "masks": bool_arrays(X2 > 0, (2, 3))},
    ),
    Spec(
        explain.bootstrap_interval,
        dict(values=X2[0], resamples=50),
        {
            "values": arrays(X2[0], (1,)),
            "confidence": reals(),
            "resamples": ints(1),
            "seed": ints(0),
        },
    ),
    Spec(
        explain.baseline_map,
        dict(x=X4[0], kind="edges"),
        {"x": arrays(X4[0], (3, 4)), "kind": choices(explain.BASELINES), "seed": ints(0)},
    ),
]


# -- view constructors: slow (each builds a figure), so few examples
def _view(name: str):
    return getattr(importlib.import_module("cnnlib.widgets"), name)


_STATE = dict(project=lambda view: view.state, max_examples=6)
SPECS += [
    Spec(
        _view("SlidingKernel"),
        dict(image=X2, kernel=K2, bias=0.5),
        {"image": arrays(X2, (2,)), "kernel": arrays(K2, (2,)), "bias": reals()},
        **_STATE,
    ),
    Spec(_view("PoolingView"), dict(feature_map=X2), {"feature_map": arrays(X2, (2,))}, **_STATE),
    Spec(
        _view("EquivarianceExplorer"),
        dict(image=IMG[0, 0] ** 2),
        {"image": arrays(IMG[0, 0] ** 2, (2,))},
        **_STATE,
    ),
    Spec(
        _view("GradientView"),
        dict(x=X2[:5, :5], weight=K2, seed=1),
        {"x": arrays(X2[:5, :5], (2,)), "weight": arrays(K2, (2,)), "seed": ints(0)},
        **_STATE,
    ),
    Spec(
        _view("DimensionsExplorer"),
        dict(size=7, kernel_size=3, stride=2, padding=1),
        {
            "size": ints(1),
            "kernel_size": ints(1),
            "stride": ints(1),
            "padding": ints(0),
            "dilation": ints(1),
            "transposed": flags(),
            "output_padding": ints(0),
        },
        **_STATE,
    ),
    Spec(
        _view("ParametersView"),
        dict(in_channels=4, out_channels=8, kernel_size=3, groups=2),
        {
            "in_channels": ints(1),
            "out_channels": ints(1),
            "kernel_size": ints(1),
            "groups": ints(1),
            "bias": flags(),
            "size": ints(1),
        },
        **_STATE,
    ),
    Spec(
        _view("ReceptiveFieldExplorer"),
        dict(preset="three 3x3 convs", photo=False),
        {"preset": choices(("three 3x3 convs",)), "photo": flags()},
        **_STATE,
    ),
    Spec(
        _view("ModelView"),
        dict(model="LeNet-5", layer=1, weights="random"),
        {"model": choices(("LeNet-5",)), "layer": ints(0), "weights": choices(("random",))},
        project=lambda view: view.state,
        max_examples=5,
    ),
]


# -- architectures: builders (the big ones on the meta device, where a model past the budget
# allocates nothing but fails ``_within_budget``), a model must stay within the memory budget
def _layout(model: torch.nn.Module) -> list:
    """What a ``Same`` size must reproduce: every parameter's and buffer's name and shape."""
    tensors = [*model.named_parameters(), *model.named_buffers()]
    return [(n, tuple(t.shape)) for n, t in tensors]


def _within_budget(model: object, context: str) -> None:
    n = sum(t.numel() for t in (*model.parameters(), *model.buffers()))
    budget = cnnlib.get_memory_budget()
    assert budget is None or 4 * n <= budget, (
        f"{context}: built a model of {n:,} numbers ({4 * n / 2**30:.3g} GiB), past the "
        f"memory budget of {budget / 2**30:.3g} GiB"
    )


_MODEL = dict(project=_layout, check=_within_budget, max_examples=40)
_DROPOUT = st.one_of(
    reals(),
    st.sampled_from(
        [Bad(1.5, "above 1"), Bad(-0.25, "negative"), Edge(1.0, "drops all"), Edge(0.0, "none")]
    ),
)
_VGG_CONFIG = st.one_of(
    junk(),
    st.sampled_from(
        [
            Bad((), "empty"),
            Bad((4, "N"), "not M"),
            Bad((0, "M"), "zero width"),
            Bad((4.0, "M"), "float width"),
            Bad((True, "M"), "bool width"),
            Bad("4M8", "a string"),
            Same([4, "M", 8], "a list", (4, "M", 8)),
            Same((np.int64(4), "M", np.int16(8)), "NumPy ints", (4, "M", 8)),
            Edge(("M",), "no convolution"),
            Edge((10**6,), "huge"),
            Edge((4, 2**31), "huge"),
        ]
    ),
)
_CNN_ARGS = {"in_channels": ints(1), "num_classes": ints(1), "widths": int_tuples((2, 3))}
SPECS += [
    *[
        Spec(fn, dict(in_channels=1, num_classes=3, widths=(2, 3)), _CNN_ARGS, **_MODEL)
        for fn in (architectures.simple_cnn, architectures.SimpleCNN)
    ],
    *[
        Spec(
            fn,
            dict(in_channels=1, num_classes=3, widths=(2, 3)),
            {**_CNN_ARGS, "convs_per_block": ints(1)},
            **_MODEL,
        )
        for fn in (architectures.shapes_cnn, architectures.ShapesCNN)
    ],
    Spec(
        architectures.mlp,
        dict(in_features=4, hidden=(3,), num_classes=2),
        {"in_features": ints(1), "hidden": int_tuples((3,)), "num_classes": ints(1)},
        **_MODEL,
    ),
    Spec(
        architectures.deep_stack,
        dict(depth=2, channels=3, in_channels=1, num_classes=2),
        {
            "depth": ints(1),
            "channels": ints(1),
            "skip": flags(),
            "in_channels": ints(1),
            "num_classes": ints(1),
            "init": choices(architectures.STACK_INITS),
            "batch_norm": flags(),
        },
        **_MODEL,
    ),
    Spec(
        architectures.lenet5,
        dict(num_classes=3),
        {"modern": flags(), "num_classes": ints(1)},
        **_MODEL,
    ),
    # small enough to build for real (< 0.1 s each)
    *[
        Spec(fn, dict(num_classes=3), {"num_classes": ints(1)}, **{**_MODEL, "max_examples": 20})
        for fn in (
            architectures.resnet18,
            architectures.mobilenet_v2,
            architectures.efficientnet_b0,
        )
    ],
    # 0.4-1 s each for real: on the meta device
    *[
        Spec(fn, dict(num_classes=3), {"num_classes": ints(1)}, **_MODEL, device="meta")
        for fn in (
            architectures.alexnet,
            architectures.vgg16,
            architectures.vgg16_bn,
            architectures.resnet50,
            architectures.vit_b_16,
        )
    ],
    Spec(
        architectures.VisionTransformer,
        dict(image_size=8, patch_size=4, depth=1, num_heads=2, dim=4, mlp_dim=8, num_classes=3),
        {
            "image_size": ints(1),
            "patch_size": ints(1),
            "depth": ints(1),
            "num_heads": ints(1),
            "dim": ints(1),
            "mlp_dim": ints(1),
            "num_classes": ints(1),
        },
        **_MODEL,
    ),
    Spec(
        architectures.AlexNet,
        dict(num_classes=3),
        {"num_classes": ints(1), "dropout": _DROPOUT},
        **_MODEL,
        device="meta",
    ),
    Spec(
        architectures.VGG,
        dict(config=(4, "M", 8), num_classes=3),
        {
            "config": _VGG_CONFIG,
            "batch_norm": flags(),
            "num_classes": ints(1),
            "dropout": _DROPOUT,
        },
        **_MODEL,
        device="meta",
    ),
    Spec(
        architectures.ResNet,
        dict(block=architectures.BasicBlock, depths=(1, 1, 1, 1), num_classes=3),
        {
            "block": st.one_of(
                junk(),
                st.sampled_from(
                    [
                        Bad("BasicBlock", "a name"),
                        Bad(torch.nn.ReLU, "another module class"),
                        Bad(architectures.BasicBlock(4, 4), "an instance"),
                        Edge(architectures.Bottleneck, "the other block"),
                    ]
                ),
            ),
            "depths": int_tuples((1, 1, 1, 1)),
            "num_classes": ints(1),
        },
        **{**_MODEL, "max_examples": 25},
    ),
    Spec(
        architectures.MobileNetV2,
        dict(num_classes=3),
        {"num_classes": ints(1), "dropout": _DROPOUT},
        **{**_MODEL, "max_examples": 20},
    ),
    Spec(
        architectures.EfficientNet,
        dict(num_classes=3),
        {
            "num_classes": ints(1),
            "dropout": _DROPOUT,
            "stochastic_depth": st.one_of(
                reals(),
                st.sampled_from(
                    [Bad(1.0, "drops every block"), Bad(-0.1, "negative"), Edge(0.0, "none")]
                ),
            ),
        },
        **{**_MODEL, "max_examples": 20},
    ),
    # building blocks
    *[
        Spec(
            fn,
            dict(in_channels=2, out_channels=3),
            {
                "in_channels": ints(1),
                "out_channels": ints(1),
                "kernel_size": sizes(1),
                "stride": sizes(1),
                "padding": sizes(0),
            },
            **_MODEL,
        )
        for fn in (architectures.ConvBlock, architectures.DepthwiseSeparableConv)
    ],
    Spec(
        architectures.StackBlock,
        dict(channels=2),
        {"channels": ints(1), "skip": flags(), "batch_norm": flags()},
        **_MODEL,
    ),
    Spec(
        architectures.Subsampling,
        dict(channels=2),
        {"channels": ints(1), "kernel_size": ints(1)},
        **_MODEL,
    ),
    Spec(
        architectures.RBFOutput,
        dict(in_features=3, out_features=2),
        {"in_features": ints(1), "out_features": ints(1)},
        **_MODEL,
    ),
    Spec(
        architectures.SqueezeExcitation,
        dict(channels=4, squeeze_channels=2),
        {"channels": ints(1), "squeeze_channels": ints(1)},
        **_MODEL,
    ),
    Spec(
        architectures.SelfAttention,
        dict(dim=4, num_heads=2),
        {"dim": ints(1), "num_heads": ints(1)},
        **_MODEL,
    ),
    Spec(
        architectures.EncoderBlock,
        dict(dim=4, num_heads=2, mlp_dim=8),
        {"dim": ints(1), "num_heads": ints(1), "mlp_dim": ints(1), "dropout": _DROPOUT},
        **_MODEL,
    ),
    Spec(
        architectures.PatchEmbedding,
        dict(image_size=8, patch_size=4, dim=4),
        {"image_size": ints(1), "patch_size": ints(1), "dim": ints(1)},
        **_MODEL,
    ),
    *[
        Spec(fn, dict(model=TINY), {"model": modules()})
        for fn in (
            architectures.he_init_,
            architectures.layer_sequence,
            architectures.trunk,
            architectures.depth,
        )
    ],
]


# -- the model views, with a tiny random model and tiny images passed in (nothing trained or
# loaded: the default model, drawn for None, would train for seconds, so None is not drawn)
def _given(strategy: st.SearchStrategy[Case]) -> st.SearchStrategy[Case]:
    return strategy.filter(lambda case: case.value is not None)


_MODEL_VIEW = {
    "model": _given(
        st.one_of(
            modules(),
            st.just(Bad(torch.nn.Linear(64, 2), "no Conv2d layer")),
            st.just(Bad(torch.nn.Conv2d(3, 2, 3), "takes 3 channels, the images have 1")),
        )
    ),
    "images": _given(arrays(IMG[:, :, :6, :6], (3, 4))),
}
SPECS += [
    Spec(
        _view("ActivationExplorer"),
        dict(model=TINY, images=IMG[:, :, :6, :6]),
        _MODEL_VIEW,
        **{**_STATE, "max_examples": 40},
    ),
    Spec(
        _view("SaliencyView"),
        dict(model=TINY, images=IMG[:, :, :6, :6], masks=IMG[0, 0, :6, :6] > 0),
        {
            **_MODEL_VIEW,
            "masks": bool_arrays(IMG[0, 0, :6, :6] > 0, (2, 3)),
        },
        **{**_STATE, "max_examples": 60},
    ),
]

EXERCISE_MODULES = [
    m.name
    for m in pkgutil.iter_modules(importlib.import_module("cnnlib.exercises").__path__)
    if not m.name.startswith("_")
]

#: public callables the generic suite does not fuzz, and why
SKIPPED: dict[str, str] = {
    **dict.fromkeys(
        [
            f"cnnlib.architectures.{n}"
            for n in architectures.__all__
            if callable(getattr(architectures, n))
            and getattr(architectures, n) not in {s.fn for s in SPECS}
        ],
        "ImageClassifier, ScaledTanh, ClassToken take no arguments; BasicBlock, Bottleneck, "
        "InvertedResidual, MBConv and PartialConv2d are the inner blocks of ResNet, "
        "MobileNetV2, EfficientNet and LeNet-5 (fuzzed above, which check their sizes): "
        "called alone, their channel/stride/expansion/kernel arguments go to torch.nn layers "
        "without a memory estimate (a huge channel count is torch's error) (follow-up)",
    ),
    **dict.fromkeys(
        [
            f"cnnlib.exercises.{m}.{n}"
            for m in EXERCISE_MODULES
            for n in importlib.import_module(f"cnnlib.exercises.{m}").__all__
        ],
        "exercise checkers take a learner's function: fuzzed by the checkers' own suite "
        "(issue 14 item 11, tests/fuzz/test_fuzz_checkers.py)",
    ),
    **dict.fromkeys(
        [
            f"cnnlib.plotting.{n}"
            for n in (
                "draw_box_graph",
                "draw_conv_grid",
                "figure_png",
                "label_cells",
                "move_rect",
                "new_figure",
                "set_grid_lines",
                "show_grid",
                "show_images",
                "symmetric_limits",
                "window_rect",
            )
        ],
        "drawing primitives on matplotlib objects the library itself makes; matplotlib checks "
        "their arguments",
    ),
    "cnnlib.plotting.use_style": "one string argument, tested in test_plotting.py",
    "cnnlib.plotting.show_conv_window": "draws conv2d's output (fuzzed above) for a small 2-D "
    "example; its argument checks are tested in test_plotting_figures.py",
    **dict.fromkeys(
        [f"cnnlib.backprop.{n}" for n in backprop.__all__ if n.startswith("show_")],
        "notebook 06's figures, drawn from conv2d_backward, gradient_terms and the pooling "
        "backward passes (fuzzed above); their argument checks are tested in test_backprop.py",
    ),
    "cnnlib.explain.show_maps": "draws maps that attribution_map and baseline_map computed "
    "(fuzzed above); its argument checks and colour limits are tested in test_explain_sanity.py",
    "cnnlib.explain.score_maps": "notebook 09's scoreboard: pointing_game, mass_in_mask and "
    "bootstrap_interval (fuzzed above) over a dict of maps; its dict checks and a hand-worked "
    "board are tested in test_explain_baselines.py",
    "cnnlib.explain.format_interval": "formats a (mean, low, high) triple; its check is tested "
    "in test_explain_baselines.py",
    "cnnlib.explain.interval_table": "formats intervals as a text table; its row checks are "
    "tested in test_explain_baselines.py",
    "cnnlib.explain.plot_deletion": "draws DeletionCurves (deletion_curve is fuzzed above); its "
    "key and type checks are tested in test_explain_sanity.py",
    "cnnlib.explain.plot_cascade": "draws a Cascade (only a Cascade is accepted: tested in "
    "test_explain_sanity.py)",
    "cnnlib.plotting.png_bytes": "encodes the (H, W, 4) uint8 buffer of the library's own Agg "
    "canvases; its round trip through Pillow is tested in test_widgets_fastdraw.py",
    "cnnlib.plotting.colormap": "a cached lookup in matplotlib's colormap registry for the "
    "library's own colormap names (matplotlib refuses an unknown name)",
    **dict.fromkeys(
        [
            f"cnnlib.course.{n}"
            for n in (
                "Lesson",
                "all_requirements",
                "course_map",
                "depth",
                "edges",
                "lesson",
                "table_markdown",
            )
        ],
        "the course's table of contents: fixed data, used by notebook 00 and its tests",
    ),
    **dict.fromkeys(
        [f"cnnlib.training.{n}" for n in training.__all__ if callable(getattr(training, n))],
        "training loops over torch tensors and models (torch checks them); too slow to fuzz "
        "in make test",
    ),
    "cnnlib.data.digits": "takes no arguments",
    "cnnlib.data.house": "takes no arguments",
    "cnnlib.data.default_feature_map": "takes no arguments",
    "cnnlib.plotting.view_scale": "takes no arguments",
    **dict.fromkeys(
        [
            "cnnlib.backprop.GradientCheck",
            "cnnlib.params.Summary",
            "cnnlib.params.SummaryRow",
            "cnnlib.receptive.Field",
            "cnnlib.receptive.UnitWindows",
            "cnnlib.receptive.Window",
            "cnnlib.shapes.ConvGrid",
            "cnnlib.shapes.Explanation",
        ],
        "a result record (NamedTuple / dataclass) that cnnlib builds, not an entry point",
    ),
    "cnnlib.receptive.train_box_average": "trains a model (seconds per call); its int "
    "arguments use check_int like every other",
    "cnnlib.receptive.positive_copy": "copies a module; tested in test_receptive.py",
    "cnnlib.receptive.effective_receptive_field": "runs a backward pass of a learner's module",
    "cnnlib.receptive.empirical_field": "runs a backward pass of a learner's module",
    "cnnlib.receptive.conv_stack": "builds a torch module from receptive_field's layer list",
    "cnnlib.equivariance.BlurPool2d": "a torch module: its arguments are blur_pool2d's",
    "cnnlib.equivariance.plot_conv2d_matrices": "draws matrices that conv2d_matrix built; "
    "its refusals are tested in test_equivariance.py",
    "cnnlib.equivariance.pooling_invariance_table": "formats pooling_invariance's results as "
    "text; its refusals are tested in test_equivariance.py",
    **dict.fromkeys(
        [
            f"cnnlib.equivariance.{n}"
            for n in (
                "shift_cnn",
                "shifted_digits",
                "train_shift_cnns",
                "save_shift_cnns",
                "load_shift_cnns",
            )
        ],
        "notebook 05's trained example: a fixed network, its data and its weights file "
        "(training takes seconds); tested in test_equivariance.py",
    ),
    **dict.fromkeys(
        [
            "cnnlib.data.ShapeParams",
            "cnnlib.data.Shapes",
            "cnnlib.explain.Cascade",
            "cnnlib.explain.DeletionCurve",
            "cnnlib.explain.FollowingStep",
            "cnnlib.explain.UnitContributions",
            "cnnlib.progress.ProgressBoard",
        ],
        "a result record or display object that cnnlib builds, not an entry point",
    ),
    "cnnlib.data.shape_outline": "draws one outline for shapes(), which checks its arguments",
    **dict.fromkeys(
        [
            "cnnlib.explain.activations",
            "cnnlib.explain.unit_contributions",
            "cnnlib.explain.conv_unit_terms",
            "cnnlib.explain.attribution_map",
            "cnnlib.explain.deletion_curve",
            "cnnlib.explain.cascading_randomization",
        ],
        "runs a model's forward/backward passes (seconds on real models); its tensors are "
        "checked by the functions fuzzed above (saliency, grad_cam, occlusion) (follow-up)",
    ),
    **dict.fromkeys(
        [
            "cnnlib.plotting.cell_text_colors",
            "cnnlib.plotting.contrast_ratio",
            "cnnlib.plotting.relative_luminance",
            "cnnlib.plotting.text_color",
        ],
        "colour arithmetic on matplotlib colours, tested in test_plotting_contrast.py",
    ),
    **dict.fromkeys(
        ["cnnlib.course.nav_markdown", "cnnlib.course.write_nav", "cnnlib.course.save_notebook"],
        "the course's navigation cells and how notebooks are saved: fixed data, tested in "
        "test_course.py and test_hosting.py",
    ),
    **dict.fromkeys(
        [
            f"cnnlib.course.{n}"
            for n in (
                "PathStats",
                "course_stats",
                "going_further",
                "is_solution",
                "notes_text",
                "path_stats",
                "path_table",
                "section_minutes",
                "slide_hint",
                "slide_type",
                "write_notes",
                "write_table",
            )
        ],
        "counts over the course's own notebook files (parsed .ipynb dicts); tested on a "
        "hand-counted notebook and on every notebook in test_course_path.py",
    ),
    **dict.fromkeys(
        [
            f"cnnlib.hosting.{n}"
            for n in (
                "badges_markdown",
                "binder_url",
                "colab_cell_source",
                "colab_url",
                "write_launchers",
            )
        ],
        "the notebooks' Colab and Binder launchers: fixed data, tested in test_hosting.py",
    ),
}
