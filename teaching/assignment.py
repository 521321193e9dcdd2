"""The graded assignment, in nbgrader's format, and a small grader that runs it like nbgrader.

``python -m teaching.assignment`` writes the instructor's version (solutions between
``### BEGIN SOLUTION`` / ``### END SOLUTION``) to
``teaching/nbgrader/source/conv_assignment/conv_assignment.ipynb`` and the student's version
(each solution replaced by ``raise NotImplementedError()``, as ``nbgrader generate_assignment``
does) to ``teaching/nbgrader/release/conv_assignment/conv_assignment.ipynb``. The cells carry
nbgrader's metadata (schema 3), so nbgrader can release, collect and autograde them with no
change; nbgrader itself is not needed to use or to test them.

:func:`grade` runs a notebook's code cells in order in one namespace, as ``nbgrader
autograde`` does, and awards each graded cell's points when it runs without an exception.
The graded cells call :mod:`teaching.autograder`, which uses ``cnnlib.exercises``' checkers.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

from teaching.autograder import POINTS

HERE = Path(__file__).parent / "nbgrader"
NAME = "conv_assignment"
SOURCE = HERE / "source" / NAME / f"{NAME}.ipynb"
RELEASE = HERE / "release" / NAME / f"{NAME}.ipynb"

SETUP = """\
# Run inside the course's repository (nbgrader's course directory: teaching/nbgrader).
import pathlib
import sys

here = pathlib.Path.cwd().resolve()
root = next(p for p in (here, *here.parents) if (p / "teaching" / "autograder.py").exists())
sys.path.insert(0, str(root))

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.training import digits_split
from teaching.autograder import (
    check_train_epoch,
    check_trained,
    grade_conv_forward,
    grade_grad_input,
    grade_grad_weight,
    minibatches,
    small_cnn,
)

torch.set_num_threads(1)  # tiny 8 x 8 images: more threads cost more than they give
"""

#: the reference solution of each solution cell (the code between the solution markers)
SOLUTIONS = {
    "conv_forward": '''\
def my_conv2d(x, kernel, stride=1, padding=0):
    """Cross-correlation of a 2-D x with a 2-D kernel, zero padding, as torch's conv2d."""
    x = np.pad(np.asarray(x, dtype=float), padding)
    kh, kw = kernel.shape
    rows = (x.shape[0] - kh) // stride + 1
    cols = (x.shape[1] - kw) // stride + 1
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            window = x[i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[i, j] = np.sum(window * kernel)
    return out''',
    "grad_weight": '''\
def my_grad_weight(x, grad_out):
    """dL/dw of y = conv2d(x, w) (stride 1, no padding): x cross-correlated with grad_out."""
    return my_conv2d(x, grad_out)''',
    "grad_input": '''\
def my_grad_input(grad_out, w):
    """dL/dx of y = conv2d(x, w) (stride 1, no padding): grad_out padded by k - 1,
    cross-correlated with w turned by 180 degrees."""
    kh, kw = w.shape
    padded = np.pad(grad_out, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return my_conv2d(padded, w[::-1, ::-1])''',
    "train_epoch": '''\
def train_epoch(model, batches, optimizer):
    """One pass over batches [(x, y), ...]; returns the mean training loss."""
    model.train()
    total = 0.0
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(batches)''',
    "train": """\
torch.manual_seed(0)
model = small_cnn()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(8):
    loss = train_epoch(model, minibatches(x_train, y_train, 64, seed=epoch), optimizer)
    print(f"epoch {epoch + 1}: mean loss {loss:.3f}")""",
}

TESTS = {
    "conv_forward": "assert grade_conv_forward(my_conv2d)",
    "grad_weight": "assert grade_grad_weight(my_grad_weight)",
    "grad_input": "assert grade_grad_input(my_grad_input)",
    "train_epoch": "assert check_train_epoch(train_epoch)",
    "accuracy": "assert check_trained(model)",
}

#: the notebook, in order: ("md", text) | ("setup", code) | ("solution", id) | ("test", id)
LAYOUT = [
    (
        "md",
        f"""\
# Graded assignment: a convolution by hand, then a CNN trained by your own loop

{sum(POINTS.values())} points, autograded. Write your code where it says `YOUR CODE HERE`
(delete the `raise NotImplementedError()`), then run every cell. A grading cell that runs
without an error earns its points; its message says what is wrong if it fails. Use NumPy in
Part 1 (no `torch.nn.functional.conv2d`, no `scipy.signal`); Part 2 uses PyTorch.

It follows notebooks 01 (convolution), 02 (output size), 06 (backpropagation through
convolution) and the training section (softmax, cross-entropy, a training loop).""",
    ),
    ("setup", SETUP),
    (
        "md",
        f"""\
## Part 1. A convolution, forward ({POINTS["conv_forward"]} points)

Write `my_conv2d(x, kernel, stride=1, padding=0)` for a 2-D `x` and a 2-D `kernel`: pad `x`
with `padding` zeros on every side, then
$\\text{{out}}[i, j] = \\sum_{{m, n}} x_\\text{{pad}}[i s + m, j s + n]\\, \\text{{kernel}}[m, n]$,
with the output size of notebook 02. The checker compares it with PyTorch's `conv2d`.""",
    ),
    ("solution", "conv_forward"),
    ("test", "conv_forward"),
    (
        "md",
        f"""\
## Part 1. The backward pass ({POINTS["grad_weight"]} + {POINTS["grad_input"]} points)

For $y = \\text{{conv2d}}(x, w)$ (stride 1, no padding) and $g = \\partial L / \\partial y$:

- `my_grad_weight(x, grad_out)`:
  $\\partial L/\\partial w[m, n] = \\sum_{{i,j}} g[i, j]\\, x[i + m, j + n]$;
- `my_grad_input(grad_out, w)`: $\\partial L/\\partial x$, $g$ padded by $k - 1$ zeros and
  cross-correlated with $w$ turned by 180 degrees.

You may call your `my_conv2d`. The checkers compare with torch's autograd.""",
    ),
    ("solution", "grad_weight"),
    ("test", "grad_weight"),
    ("solution", "grad_input"),
    ("test", "grad_input"),
    (
        "md",
        f"""\
## Part 2. Your training loop ({POINTS["train_epoch"]} points)

Write `train_epoch(model, batches, optimizer)`: for each mini-batch `(x, y)` clear the
gradients, compute the scores and the cross-entropy loss (`F.cross_entropy`), backpropagate,
take an optimiser step; return the mean of the batches' losses. The checker runs it and a
reference loop from the same weights on the same batches and compares the weights after.""",
    ),
    ("solution", "train_epoch"),
    ("test", "train_epoch"),
    (
        "md",
        f"""\
## Part 2. Train on the digits ({POINTS["accuracy"]} point)

The 1,797 8 x 8 digits of scikit-learn (offline), split 80 / 20 by class. Train `small_cnn()`
with your `train_epoch` until its accuracy on the held-out 20 % reaches at least 90 %
(guessing gives 10 %). Keep the trained network in `model`.""",
    ),
    (
        "setup",
        "x_train, y_train, x_test, y_test = digits_split()\nprint(x_train.shape, x_test.shape)",
    ),
    ("solution", "train"),
    ("test", "accuracy"),
]

_META = {"schema_version": 3, "task": False}


def _cell(kind: str, source: str, meta: dict) -> dict:
    cell = {"cell_type": kind, "metadata": {"nbgrader": {**_META, **meta}}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def cells(release: bool) -> list[dict]:
    """The assignment's cells; ``release=True`` replaces each solution by nbgrader's stub."""
    out = []
    for n, (kind, value) in enumerate(LAYOUT):
        if kind == "md":
            meta = {"grade": False, "grade_id": f"md_{n}", "locked": True, "solution": False}
            out.append(_cell("markdown", value, meta))
        elif kind == "setup":
            meta = {"grade": False, "grade_id": f"setup_{n}", "locked": True, "solution": False}
            out.append(_cell("code", value, meta))
        elif kind == "solution":
            body = SOLUTIONS[value]
            if release:
                body = _stub(body)
            else:
                body = "### BEGIN SOLUTION\n" + body + "\n### END SOLUTION"
            meta = {"grade": False, "grade_id": value, "locked": False, "solution": True}
            out.append(_cell("code", body, meta))
        else:
            meta = {
                "grade": True,
                "grade_id": f"test_{value}",
                "locked": True,
                "points": POINTS[value],
                "solution": False,
            }
            out.append(_cell("code", TESTS[value], meta))
    return out


def _stub(solution: str) -> str:
    """What ``nbgrader generate_assignment`` leaves of a solution: a function keeps its
    ``def`` line and docstring; the body becomes the stub."""
    m = re.match(r'(def [^\n]+\n    """.*?"""\n)', solution, re.S)
    if m:
        return m.group(1) + "    # YOUR CODE HERE\n    raise NotImplementedError()"
    return "# YOUR CODE HERE\nraise NotImplementedError()"


def notebook(release: bool) -> dict:
    return {
        "cells": cells(release),
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _dump(nb: dict) -> str:
    for i, c in enumerate(nb["cells"]):
        c["id"] = f"cell-{i:02d}"
        c["source"] = c["source"].splitlines(keepends=True)
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def write() -> None:
    """Write both versions, formatted as the repository's code (``ruff format``)."""
    for path, release in ((SOURCE, False), (RELEASE, True)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(notebook(release)), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(path)], check=False)
        print(f"wrote {path}")


def grade(nb: dict | Path, replace: dict[str, str] | None = None) -> tuple[int, dict[str, bool]]:
    """Run ``nb``'s code cells in order in one namespace, as ``nbgrader autograde`` does;
    return ``(points, {grade_id: passed})`` over the graded cells. ``replace`` maps a solution
    cell's ``grade_id`` to other code (a learner's answer) to run instead."""
    from cnnlib.exercises._report import forget_misses

    if isinstance(nb, Path):
        nb = json.loads(nb.read_text(encoding="utf-8"))
    forget_misses()
    env: dict = {"__name__": "__assignment__"}
    points, passed = 0, {}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        meta = cell["metadata"].get("nbgrader", {})
        src = "".join(cell["source"])
        if replace and meta.get("grade_id") in replace:
            src = replace[meta["grade_id"]]
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(src, f"<cell {meta.get('grade_id')}>", "exec"), env)
            ok = True
        except Exception:
            ok = False
        if meta.get("grade"):
            passed[meta["grade_id"]] = ok
            points += meta["points"] if ok else 0
    return points, passed


def main(argv: list[str]) -> None:
    """``python -m teaching.assignment`` writes both versions; ``python -m teaching.assignment
    grade STUDENT.ipynb`` prints a submission's score per graded cell (no nbgrader needed)."""
    if argv[:1] == ["grade"] and len(argv) == 2:
        points, passed = grade(Path(argv[1]))
        for grade_id, ok in passed.items():
            name = grade_id.removeprefix("test_")
            print(f"{name:14s} {POINTS[name] if ok else 0} / {POINTS[name]}")
        print(f"{'total':14s} {points} / {sum(POINTS.values())}")
    elif not argv:
        write()
    else:
        raise SystemExit("usage: python -m teaching.assignment [grade STUDENT.ipynb]")


if __name__ == "__main__":
    main(sys.argv[1:])
