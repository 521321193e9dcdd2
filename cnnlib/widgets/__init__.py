"""Interactive views, one module per view; each class builds with no arguments.

``from cnnlib.widgets import SlidingKernel`` imports only that view's module (views pull in
torch or large data; a notebook pays only for the ones it shows).
"""

import importlib

from cnnlib.widgets._base import View

#: view class -> module in this package that defines it
VIEWS = {
    "SlidingKernel": "sliding_kernel",
    "PoolingView": "pooling",
    "DimensionsExplorer": "dimensions",
    "ParametersView": "parameters",
    "ReceptiveFieldExplorer": "receptive_field",
    "EquivarianceExplorer": "equivariance",
    "GradientView": "gradient",
    "ModelView": "model",
    "ActivationExplorer": "activations",
    "SaliencyView": "saliency",
}

__all__ = ["View", *VIEWS]


def __getattr__(name: str):
    if name in VIEWS:
        module = importlib.import_module(f"cnnlib.widgets.{VIEWS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'cnnlib.widgets' has no attribute {name!r}")
