"""Interactive views, one module per view; each class builds with no arguments.

Import from here: ``from cnnlib.widgets import SlidingKernel``.
"""

from cnnlib.widgets._base import View

__all__ = ["View"]
