"""cnnlib: the helpers and interactive views behind the CNN teaching notebooks.

Modules are named after what they hold (which notebook uses which modules, views and checkers
is recorded in ``cnnlib.course.LESSONS``):

- ``cnnlib.conv``          convolution, cross-correlation, pooling (NumPy, torch semantics)
- ``cnnlib.shapes``        output-size arithmetic
- ``cnnlib.params``        parameter and multiply-accumulate counts
- ``cnnlib.receptive``     receptive fields
- ``cnnlib.equivariance``  shifts and equivariance measurements
- ``cnnlib.backprop``      gradients of convolution and pooling
- ``cnnlib.architectures`` LeNet-5 ... ViT in torch
- ``cnnlib.data``          offline sample data, generated shapes with ground-truth masks
- ``cnnlib.training``      deterministic training on the CPU (digits, shapes)
- ``cnnlib.progress``      a live progress bar and loss / accuracy plot for training
- ``cnnlib.explain``       activations, one unit opened up, saliency, CAM, Grad-CAM, checks
- ``cnnlib.plotting``      drawing primitives shared by figures and views
- ``cnnlib.widgets``       one interactive view per module
- ``cnnlib.exercises``     checkers for the notebooks' exercises

No function allocates past a memory budget (1 GiB unless ``cnnlib.set_memory_budget`` says
otherwise): a job estimated to need more is refused up front with a ``ValueError`` naming
the argument that makes it large.

At import, every package cnnlib uses is checked against the lowest version in its
requirements (``cnnlib._requirements``): a too-old one is named with the command that fixes it.
"""

from cnnlib import _requirements

_requirements.check()  # names a too-old numpy, torch, ... with the command that fixes it

from cnnlib._validate import get_memory_budget, memory_budget, set_memory_budget  # noqa: E402

__version__ = "0.1.0"
__all__ = ["get_memory_budget", "memory_budget", "set_memory_budget"]
