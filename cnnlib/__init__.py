"""cnnlib: the helpers and interactive views behind the CNN teaching notebooks.

Modules are named after what they hold; a notebook and its module share a name:

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
"""

__version__ = "0.1.0"
