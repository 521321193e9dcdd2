"""The instructor's pack (``teaching/``): every number in it is the library's.

- The formula sheet is what ``teaching/formulas.py`` writes, and each worked number is
  recomputed here from the formula as printed on the sheet (typed again below, independently
  of ``cnnlib``), the gradients also by torch's autograd.
- The quiz is what ``teaching/quiz.py`` writes; each typed answer equals what ``cnnlib`` (or
  torch) computes; five questions per notebook 00-08.
- The graded assignment: nbgrader metadata that nbgrader accepts, the reference solution
  scores full marks, the student's version scores nothing, typical wrong answers lose the
  points of their part.
- Links between the pack's pages and from the README resolve.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnlib import course
from teaching import assignment, formulas, quiz

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "teaching"


# -- formula sheet ----------------------------------------------------------------------------
def test_formula_sheet_is_what_the_script_writes() -> None:
    assert formulas.SHEET.read_text(encoding="utf-8") == formulas.render(), (
        "teaching/formula_sheet.md is stale: run `python -m teaching.formulas`"
    )


def _out(n, k, s=1, p=0, d=1):
    return math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1


def _out_ceil(n, k, s, p=0, d=1):
    o = math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1
    return o - 1 if (o - 1) * s >= n + p else o  # the last window must start inside


def _rf(layers):
    r, jump, pad = 1, 1, 0
    for k, s, p, *d in layers:
        d = d[0] if d else 1
        r, pad, jump = r + d * (k - 1) * jump, pad + p * jump, jump * s
    return r, jump, pad


def _torch_grads(x, w, g):
    xt = torch.tensor(x[None, None], requires_grad=True)
    wt = torch.tensor(w[None, None], requires_grad=True)
    bt = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    (torch.nn.functional.conv2d(xt, wt, bt) * torch.tensor(g[None, None])).sum().backward()
    return xt.grad[0, 0].numpy(), wt.grad[0, 0].numpy(), bt.grad.numpy()


def _by_hand_grad_w(x, g):
    kh, kw = x.shape[0] - g.shape[0] + 1, x.shape[1] - g.shape[1] + 1
    return np.array(
        [
            [np.sum(g * x[m : m + g.shape[0], n : n + g.shape[1]]) for n in range(kw)]
            for m in range(kh)
        ]
    )


def _by_hand_grad_x(g, w):
    kh, kw = w.shape
    gp = np.pad(g, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    r = w[::-1, ::-1]
    h, wd = gp.shape[0] - kh + 1, gp.shape[1] - kw + 1
    return np.array([[np.sum(gp[i : i + kh, j : j + kw] * r) for j in range(wd)] for i in range(h)])


def _by_hand_max_pool_grad(x, g):
    out = np.zeros_like(x)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            win = x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
            m, n = np.unravel_index(np.argmax(win), win.shape)
            out[2 * i + m, 2 * j + n] += g[i, j]
    return out


#: each sheet entry's worked number, from the formula as printed (not from cnnlib)
BY_HAND = {
    "conv_out": lambda: _out(224, 7, 2, 3),
    "conv_out_dilated": lambda: _out(32, 3, 1, 2, 2),
    "pool_out": lambda: _out(7, 2, 2),
    "pool_out_ceil": lambda: _out_ceil(7, 2, 2),
    "same_pad": lambda: (1 * (4 - 1) // 2, 1 * (4 - 1) - 1 * (4 - 1) // 2),
    "transpose_out": lambda: (14 - 1) * 2 - 0 + 1 * (2 - 1) + 0 + 1,
    "conv_params": lambda: 64 * (3 // 1 * 3 * 3 + 1),
    "depthwise_params": lambda: 32 * (32 // 32 * 3 * 3 + 1),
    "linear_params": lambda: 400 * 120 + 120,
    "conv_macs": lambda: 224 * 224 * 64 * (3 // 1) * 3 * 3,
    "rf_stack": lambda: _rf([(3, 1, 1)] * 3)[0],
    "rf_stem": lambda: _rf([(7, 2, 3), (3, 2, 1)]),
    "rf_dilated": lambda: _rf([(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)])[0],
    "grad_w": lambda: _by_hand_grad_w(formulas.X, formulas.G),
    "grad_x": lambda: _by_hand_grad_x(formulas.G, formulas.W),
    "grad_b": lambda: np.array([formulas.G.sum()]),
    "grad_maxpool": lambda: _by_hand_max_pool_grad(formulas.P, formulas.GP),
}


def test_every_sheet_entry_is_recomputed() -> None:
    assert sorted(BY_HAND) == sorted(e.key for e in formulas.ENTRIES)


@pytest.mark.parametrize("entry", formulas.ENTRIES, ids=lambda e: e.key)
def test_sheet_entry_matches_its_formula(entry) -> None:
    got, expected = entry.compute(), BY_HAND[entry.key]()
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(expected, float))
    # and the sheet prints it
    assert f"`{formulas._cell(got)}`" in formulas.SHEET.read_text(encoding="utf-8")


def test_sheet_gradients_are_torch_autograd() -> None:
    gx, gw, gb = _torch_grads(formulas.X, formulas.W, formulas.G)
    np.testing.assert_allclose(formulas._grads()[0], gx)
    np.testing.assert_allclose(formulas._grads()[1], gw)
    np.testing.assert_allclose(formulas._grads()[2], gb)


def test_sheet_softmax_cross_entropy_gradient() -> None:
    z = torch.tensor([[1.5, -0.5, 0.25, 2.0]], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(z, torch.tensor([2])).backward()
    onehot = np.eye(4)[2]
    np.testing.assert_allclose(z.grad[0].numpy(), torch.softmax(z, 1)[0].detach().numpy() - onehot)


# -- quiz -------------------------------------------------------------------------------------
def test_quiz_is_what_the_script_writes() -> None:
    assert quiz.QUIZ.read_text(encoding="utf-8") == quiz.render(), (
        "teaching/quiz.md is stale: run `python -m teaching.quiz`"
    )


def test_five_questions_per_notebook() -> None:
    notebooks = range(len(course.LESSONS) + 1)  # 00, the index, and every lesson
    counts = {nb: sum(q.notebook == nb for q in quiz.QUESTIONS) for nb in notebooks}
    assert counts == dict.fromkeys(notebooks, 5)


@pytest.mark.parametrize(
    "q", quiz.QUESTIONS, ids=[f"{q.notebook:02d}-{i % 5 + 1}" for i, q in enumerate(quiz.QUESTIONS)]
)
def test_quiz_answer_is_the_library_s(q) -> None:
    got = q.check()
    if isinstance(q.answer, bool):
        assert got is q.answer
    elif isinstance(q.answer, tuple) and all(isinstance(v, str) for v in q.answer):
        assert got == q.answer
    else:
        np.testing.assert_allclose(np.asarray(got, float), np.asarray(q.answer, float), atol=1e-9)


# -- graded assignment ------------------------------------------------------------------------
def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_assignment_cells_carry_nbgrader_metadata() -> None:
    for path in (assignment.SOURCE, assignment.RELEASE):
        cells = _load(path)["cells"]
        ids = [c["metadata"]["nbgrader"]["grade_id"] for c in cells]
        assert len(ids) == len(set(ids)), "grade_id must be unique"
        graded = [c["metadata"]["nbgrader"] for c in cells if c["metadata"]["nbgrader"]["grade"]]
        assert all(m["locked"] and not m["solution"] and m["points"] > 0 for m in graded)
        assert sum(m["points"] for m in graded) == 10
        assert all(c["metadata"]["nbgrader"]["schema_version"] == 3 for c in cells)
        assert all(c.get("outputs", []) == [] for c in cells), "hand out unexecuted notebooks"
    source = "".join("".join(c["source"]) for c in _load(assignment.SOURCE)["cells"])
    stubs = ["".join(c["source"]) for c in _load(assignment.RELEASE)["cells"]]
    assert source.count("### BEGIN SOLUTION") == len(assignment.SOLUTIONS)
    assert not any("BEGIN SOLUTION" in s or "zero_grad()" in s for s in stubs)
    n_stubs = sum(s.endswith("raise NotImplementedError()") for s in stubs)
    assert n_stubs == len(assignment.SOLUTIONS)


@pytest.fixture(scope="module")
def source() -> dict:
    return _load(assignment.SOURCE)


def test_reference_solution_scores_full_marks(source) -> None:
    points, passed = assignment.grade(source)
    assert points == 10 and all(passed.values()), passed


def test_student_version_scores_nothing() -> None:
    assert assignment.grade(_load(assignment.RELEASE)) == (
        0,
        dict.fromkeys(
            [
                "test_conv_forward",
                "test_grad_weight",
                "test_grad_input",
                "test_train_epoch",
                "test_accuracy",
            ],
            False,
        ),
    )


_FAST = {"train": "model = small_cnn()"}  # skip the training where it is not the point
WRONG = {
    "true convolution": (
        {
            "conv_forward": assignment.SOLUTIONS["conv_forward"].replace(
                "np.sum(window * kernel)", "np.sum(window * kernel[::-1, ::-1])"
            ),
            **_FAST,
        },
        "test_conv_forward",
    ),
    "kernel not rotated": (
        {"grad_input": assignment.SOLUTIONS["grad_input"].replace("w[::-1, ::-1]", "w"), **_FAST},
        "test_grad_input",
    ),
    "rotated dL/dw": (
        {
            "grad_weight": assignment.SOLUTIONS["grad_weight"].replace(
                "my_conv2d(x, grad_out)", "my_conv2d(x, grad_out[::-1, ::-1])"
            ),
            **_FAST,
        },
        "test_grad_weight",
    ),
    "no zero_grad": (
        {
            "train_epoch": assignment.SOLUTIONS["train_epoch"].replace(
                "        optimizer.zero_grad()\n", ""
            ),
            **_FAST,
        },
        "test_train_epoch",
    ),
}


@pytest.mark.parametrize("name", WRONG)
def test_wrong_solutions_lose_their_part_s_marks(source, name) -> None:
    replace, fails = WRONG[name]
    assert set(replace) - set(_FAST) <= set(assignment.SOLUTIONS)
    points, passed = assignment.grade(source, replace)
    assert not passed[fails]
    assert points <= 10 - assignment.POINTS[fails.removeprefix("test_")] - 1  # and no accuracy


def test_a_loop_that_never_steps_loses_the_loop_and_the_accuracy(source) -> None:
    no_step = assignment.SOLUTIONS["train_epoch"].replace("        optimizer.step()\n", "")
    points, passed = assignment.grade(source, {"train_epoch": no_step})
    assert not passed["test_train_epoch"] and not passed["test_accuracy"]
    assert points == 7


# -- links ------------------------------------------------------------------------------------
def _links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [t for t in re.findall(r"\]\(([^)#\s]+)", text) if "://" not in t]


@pytest.mark.parametrize(
    "page", sorted(TEACHING.glob("*.md")) + [ROOT / "README.md"], ids=lambda p: p.name
)
def test_links_resolve(page: Path) -> None:
    missing = [t for t in _links(page) if not (page.parent / t).exists()]
    assert not missing, f"{page.name} links to missing files: {missing}"


def test_readme_links_the_pack() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For lecturers", 1)[1].split("\n## ", 1)[0]
    assert "teaching/README.md" in section
