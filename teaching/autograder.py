"""The graded assignment's autograder, built from the course's exercise checkers.

Part 1 (a plain convolution, forward and backward) is graded by ``cnnlib.exercises``' own
checkers against torch: ``check_conv2d``, ``check_grad_weight``, ``check_grad_input``. Part 2
(the learner's training loop on the offline digits) is graded here, in the checkers' style and
with their machinery (:class:`cnnlib.exercises._report.Judge`: one verdict, a hint, never a
crash): ``check_train_epoch`` runs the learner's ``train_epoch`` and a reference loop from the
same weights on the same batches and compares the weights after it; ``check_trained`` measures
the trained model's accuracy on the held-out digits (``cnnlib.training.digits_split``).

Each ``grade_*`` returns a :class:`cnnlib.exercises._report.Result`, true on success, so an
nbgrader test cell is ``assert grade_...(...)``: the cell's points are awarded when it runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnlib.exercises._report import Judge, Result
from cnnlib.exercises.backprop import check_grad_input, check_grad_weight
from cnnlib.exercises.conv import check_conv2d
from cnnlib.training import accuracy, deterministic, digits_split

#: the accuracy on the held-out digits that earns the last point (a linear model gets ~0.95;
#: guessing 0.10); the reference solution reaches about 0.97
PASS_ACCURACY = 0.90
#: the points of each graded cell (the assignment notebook's nbgrader metadata uses them)
POINTS = {"conv_forward": 3, "grad_weight": 2, "grad_input": 2, "train_epoch": 2, "accuracy": 1}


def grade_conv_forward(fn: Callable[..., Any]) -> Result:
    """``fn(x, kernel, stride=1, padding=0)``: ``check_conv2d`` (against torch's conv2d)."""
    return check_conv2d(fn)


def grade_grad_weight(fn: Callable[..., Any]) -> Result:
    """``fn(x, grad_out)`` = dL/dw: ``check_grad_weight`` (against torch autograd)."""
    return check_grad_weight(fn)


def grade_grad_input(fn: Callable[..., Any]) -> Result:
    """``fn(grad_out, w)`` = dL/dx: ``check_grad_input`` (against torch autograd)."""
    return check_grad_input(fn)


def small_cnn() -> nn.Module:
    """The assignment's network for 8 x 8 digits: two conv-ReLU-pool blocks and a linear layer."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 2 * 2, 10),
    )


def minibatches(x: torch.Tensor, y: torch.Tensor, size: int, seed: int) -> list:
    """``(x, y)`` in shuffled mini-batches of ``size`` (the permutation fixed by ``seed``)."""
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    return [(x[order[i : i + size]], y[order[i : i + size]]) for i in range(0, len(y), size)]


def _reference_epoch(model: nn.Module, data: list, optimizer, accumulate: bool = False) -> float:
    """The loop the learner writes (``accumulate=True``: the same without ``zero_grad``)."""
    model.train()
    total = 0.0
    for x, y in data:
        if not accumulate:
            optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(data)


def _weights(model: nn.Module) -> np.ndarray:
    return torch.cat([p.detach().flatten() for p in model.parameters()]).numpy()


@functools.cache
def _split() -> tuple[torch.Tensor, ...]:
    return digits_split()


def _setup():
    torch.manual_seed(0)
    model = small_cnn()
    x, y, _, _ = _split()
    data = minibatches(x[:96], y[:96], 32, seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, data, opt


def check_train_epoch(fn: Callable[..., Any]) -> Result:
    """Check ``fn(model, batches, optimizer)``: one epoch of mini-batch training that returns
    the mean loss. For each ``(x, y)``: ``optimizer.zero_grad()``, ``loss =
    cross_entropy(model(x), y)``, ``loss.backward()``, ``optimizer.step()``. The weights after
    the learner's epoch must equal those after the reference loop (same start, same batches)."""
    hint = (
        "for each (x, y) in batches: optimizer.zero_grad(); loss = F.cross_entropy(model(x), y); "
        "loss.backward(); optimizer.step(); add loss.item() to a total; return total / the number "
        "of batches."
    )
    with (
        Judge(getattr(fn, "__name__", "your train_epoch"), hint, "the reference loop") as j,
        deterministic(0),
    ):
        model, data, opt = _setup()
        start = _weights(model)
        got = j.call("fn(model, batches, optimizer)", fn, model, data, opt)
        ref_model, _, ref_opt = _setup()
        ref_loss = _reference_epoch(ref_model, data, ref_opt)
        mine, ref = _weights(model), _weights(ref_model)
        if np.allclose(mine, start):
            j.fail("the weights did not change.", "call optimizer.step() after loss.backward().")
        if not np.allclose(mine, ref, rtol=1e-4, atol=1e-6):
            acc_model, _, acc_opt = _setup()
            _reference_epoch(acc_model, data, acc_opt, accumulate=True)
            if np.allclose(mine, _weights(acc_model), rtol=1e-4, atol=1e-6):
                j.fail(
                    "the weights match a loop that never clears the gradients.",
                    "call optimizer.zero_grad() before each backward(): gradients add up.",
                )
            j.fail("the weights after your epoch differ from the reference loop's.", hint)
        try:
            value = float(got)
        except (TypeError, ValueError):
            j.fail(f"it returned {type(got).__name__}, not the mean loss.", hint)
        if not np.isclose(value, ref_loss, rtol=1e-4):
            j.fail(f"it returned {value:.4f}; the mean loss of the epoch is {ref_loss:.4f}.", hint)
        j.passed(f"the weights and the mean loss ({ref_loss:.4f}) match the reference loop.")
    return j.result


def check_trained(model: Any) -> Result:
    """The trained ``model``'s accuracy on the held-out digits must reach :data:`PASS_ACCURACY`."""
    with Judge("your trained model", "train for more epochs or with a larger learning rate.") as j:
        if not isinstance(model, nn.Module):
            j.fail(f"expected a torch module, got {type(model).__name__}.")
        _, _, x_test, y_test = _split()
        acc = j.run("accuracy(model, x_test, y_test)", lambda: accuracy(model, x_test, y_test))
        if acc < PASS_ACCURACY:
            j.fail(f"test accuracy {acc:.3f}, below {PASS_ACCURACY:.2f}.")
        j.passed(f"test accuracy {acc:.3f} on {len(y_test)} held-out digits.")
    return j.result
