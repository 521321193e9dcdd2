"""The checker of the training-loop exercise of notebook 03 (a learner's own training loop).

``check_training_loop(fn)`` judges ``fn(model, optimizer, x, y, x_test, y_test, epochs,
batch_size)``: for each epoch, for each batch in order (``x[start : start + batch_size]``),
clear the gradients, run the model, take the cross-entropy loss, back-propagate and step;
then, in evaluation mode, return the test accuracy, the fraction of ``x_test`` whose largest
logit (``argmax`` over the classes, ``dim=1``) is the label.

Reference: the same loop written out here with torch (``F.cross_entropy``, ``backward``,
``optimizer.step``), run from the same initial weights; the learner's parameters after
training must equal its parameters, and the learner's accuracy its accuracy. The model holds a
batch-norm layer, so a forward pass in training mode on the test set is seen (a hook records
the mode of every forward pass). A wrong loop is named when it is one of the common mistakes:
no ``zero_grad`` (gradients add up over batches), no ``step`` (or no ``backward``: the weights
never move), the accuracy taken in training mode, or ``argmax`` over the wrong axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnlib.exercises._report import FAIL as FAIL  # re-exported for tests
from cnnlib.exercises._report import NO_ANSWER as NO_ANSWER
from cnnlib.exercises._report import PASS as PASS
from cnnlib.exercises._report import Judge, Result, name_of, number, require_callable, show

__all__ = ["check_training_loop"]

#: (random seed, epochs, batch_size, training images): the second ends each epoch on a short batch
CASES = ((0, 2, 16, 40), (2, 1, 7, 24))
LR = 0.1

_ANSWER = """the loop, with F = torch.nn.functional:
    for epoch in range(epochs):
        model.train()
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        predicted = model(x_test).argmax(dim=1)
    return (predicted == y_test).float().mean().item()"""


def _data(seed: int, n: int) -> tuple[Any, Any, Any, Any]:
    """``n`` training and 10 test images of 1 x 6 x 6 random numbers, random labels 0-9."""
    import torch

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 6, 6, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    x_test = torch.randn(10, 1, 6, 6, generator=g)
    y_test = torch.randint(0, 10, (10,), generator=g)
    return x, y, x_test, y_test


def _model(seed: int) -> Any:
    """A small CNN with batch norm (its training and evaluation modes differ), seeded."""
    import torch
    from torch import nn

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(4 * 6 * 6, 10),
        )


def reference_loop(
    model: Any,
    optimizer: Any,
    x: Any,
    y: Any,
    x_test: Any,
    y_test: Any,
    epochs: int,
    batch_size: int,
    zero_grad: bool = True,
    step: bool = True,
    eval_mode: bool = True,
    axis: int = 1,
) -> float:
    """The loop the exercise asks for; the flags make the common mistakes (for the hints)."""
    import torch
    import torch.nn.functional as F

    for _ in range(epochs):
        model.train()
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            if zero_grad:
                optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            if step:
                optimizer.step()
    model.train(not eval_mode)
    with torch.no_grad():
        predicted = model(x_test).argmax(dim=axis)
    return (predicted == y_test).float().mean().item()


def _run(seed: int, epochs: int, batch_size: int, n: int, **mistake: Any) -> tuple[float, list]:
    """The reference (or a mistake's) accuracy and final parameters on one case."""
    import torch

    model = _model(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    acc = reference_loop(model, optimizer, *_data(seed, n), epochs, batch_size, **mistake)
    return acc, [p.detach().clone() for p in model.parameters()]


def _same(a: list, b: list) -> bool:
    import torch

    return len(a) == len(b) and all(
        p.shape == q.shape and torch.allclose(p, q, rtol=1e-4, atol=1e-6)
        for p, q in zip(a, b, strict=True)
    )


def check_training_loop(fn: Callable[..., Any], show_answer: bool = False) -> Result:
    """Check ``fn(model, optimizer, x, y, x_test, y_test, epochs, batch_size)``: a training
    loop (zero_grad, forward, cross-entropy loss, backward, step per batch, batches in order)
    that returns the test accuracy ``mean(argmax(model(x_test), dim=1) == y_test)`` measured
    in evaluation mode. Prints one verdict; returns a Result, true on success.
    """
    import torch

    require_callable(fn)
    rule = (
        "for each epoch and each batch in order: optimizer.zero_grad(), logits = model(xb), "
        "loss = F.cross_entropy(logits, yb), loss.backward(), optimizer.step(); then "
        "model.eval() and the fraction of x_test whose largest logit (dim=1) is the label."
    )
    with Judge(
        name_of(fn, "your training loop"),
        rule,
        "a reference loop in torch",
        answer=_ANSWER,
        show_answer=show_answer,
    ) as j:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # these tiny layers run about 8 times faster on one thread
        try:
            for case_seed, epochs, batch_size, n in CASES:
                _case(j, fn, case_seed, epochs, batch_size, n)
        finally:
            torch.set_num_threads(threads)
        j.passed_cases(len(CASES))
    return j.result


def _case(j: Judge, fn: Callable[..., Any], seed: int, epochs: int, batch_size: int, n: int):
    import torch

    model = _model(seed)
    start = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    x, y, x_test, y_test = _data(seed, n)
    modes: list[tuple[bool, bool]] = []  # (a forward pass on the test set?, training mode?)

    def record(module: Any, inputs: Any) -> None:
        first = inputs[0] if inputs else None
        on_test = isinstance(first, torch.Tensor) and first.shape == x_test.shape
        modes.append((bool(on_test and torch.equal(first, x_test)), module.training))

    model.register_forward_pre_hook(record)
    where = (
        f"(a small CNN with batch norm, SGD with lr = {LR}, {n} training images of 1 x 6 x 6, "
        f"10 test images, epochs = {epochs}, batch_size = {batch_size})\n"
    )
    call = "fn(model, optimizer, x, y, x_test, y_test, epochs, batch_size)"
    got = j.call(
        call,
        fn,
        model,
        optimizer,
        x.clone(),
        y.clone(),
        x_test.clone(),
        y_test.clone(),
        epochs,
        batch_size,
        where=where,
    )
    try:
        accuracy = j.read(call, lambda: number(got), where)
    except (TypeError, ValueError) as exc:
        j.fail(
            f"{call} returned {show(got)}: {exc}.\n{where}",
            "return the accuracy as one number, e.g. `(predicted == y_test).float().mean()"
            ".item()`.",
        )
    params = [p.detach().clone() for p in model.parameters()]
    expected_acc, expected = _run(seed, epochs, batch_size, n)
    if not _same(params, expected):
        if _same(params, start):
            j.fail(
                f"the model's weights did not change during training.\n{where}",
                "the weights move only when the optimiser steps: after loss.backward() "
                "(which computes the gradients) call optimizer.step() for every batch.",
            )
        if _same(params, _run(seed, epochs, batch_size, n, zero_grad=False)[1]):
            j.fail(
                f"the weights after training differ from the reference loop's.\n{where}",
                "backward() adds the new gradients to the old ones: without "
                "optimizer.zero_grad() before each backward, every step uses the sum of all "
                "the batches' gradients so far.",
            )
        j.fail(
            f"the weights after training differ from the reference loop's.\n{where}",
            "go through the batches in order (x[start : start + batch_size] for start in "
            "range(0, len(x), batch_size)), and for each: zero_grad, forward, "
            "F.cross_entropy(logits, yb), backward, step, for `epochs` epochs.",
        )
    on_test = [training for test, training in modes if test]
    if not on_test:
        j.fail(
            f"{call} never ran the model on x_test.\n{where}",
            "the accuracy is measured on the test images: model(x_test).",
        )
    if any(on_test):
        j.fail(
            f"the model ran on x_test in training mode.\n{where}",
            "call model.eval() before measuring the accuracy: in training mode batch norm "
            "normalises with the test batch's own statistics (and dropout drops units).",
        )
    if abs(accuracy - expected_acc) > 1e-6:
        wrong_axis, _ = _run(seed, epochs, batch_size, n, axis=0)
        if abs(accuracy - wrong_axis) <= 1e-6:
            j.fail(
                f"returned accuracy {accuracy:.4g}.\n{where}",
                "model(x_test) has shape (images, classes): the predicted class of each "
                "image is the argmax over dim=1, not dim=0.",
            )
        j.fail(
            f"returned accuracy {accuracy:.4g}.\n{where}",
            "the accuracy is the fraction of test images whose largest logit is the label: "
            "(predicted == y_test).float().mean().",
            withheld=f"(expected {expected_acc:.4g} on this case)",
        )
