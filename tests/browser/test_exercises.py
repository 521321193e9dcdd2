"""One exercise per notebook (01-07), answered in JupyterLab as a student does it: run the cell
as given (no answer yet), then type a wrong answer into the cell and run it, then a right one;
each time the message shown under the cell is read from the page (issue 12, item 7).

Every exercise runs in one notebook and one kernel, written beside the lessons
(``exercises_in_one_kernel.ipynb``): for each exercise, the cells of its own notebook that it
needs (``cells_needed``: the set-up cell, and the cells that bind what the exercise cell and
the two answers read) and then the exercise cell, all as saved. Opening each notebook for its
exercise started seven kernels (about 85 s quiet) to run the same cells. A test runs its
exercise's cells first (JupyterLab's run-cell command); the answers are typed into the cell's
editor (pasted as text, so the editor's auto-indent cannot change them) and run with
Shift+Enter.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

import pytest

from .helpers import (
    NOTEBOOKS,
    cells_needed,
    error_outputs,
    kernel_status,
    new_page,
    notebook_code,
    open_notebook,
    run_cells,
    screenshot,
    setup_cell,
    wait_until,
    write_notebook,
)

pytestmark = pytest.mark.browser

NO_ANSWER, FAIL, PASS, HINT = "✏️ No answer yet for", "❌", "✅", "Hint:"


@dataclass
class Exercise:
    notebook: str
    marker: str  # a line that only the exercise's code cell holds
    wrong: str  # the cell's new source: a typical mistake
    right: str  # the cell's new source: a right answer
    no_answer: tuple[str, ...]  # what the starter's message must say
    wrong_says: tuple[str, ...]  # what the wrong answer's message must say
    right_says: tuple[str, ...]  # what the right answer's message must say


def src(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


EXERCISES = [
    Exercise(
        "01_convolution.ipynb",
        "my_answer = None  # your prediction of conv2d(x_ex, k_ex)[1, 2]",
        src("""
            my_answer = 3  # x_ex and k_ex as the cell defined them
            check_output_value(my_answer, x_ex, k_ex, row=1, col=2)
        """),
        src("""
            my_answer = 1  # x_ex and k_ex as the cell defined them
            check_output_value(my_answer, x_ex, k_ex, row=1, col=2)
        """),
        ("for output[1, 2]: replace None with your prediction",),
        ("output[1, 2]: it is not 3", "show_answer=True, shows the worked answer"),
        ("output[1, 2]: 1, correct.",),
    ),
    Exercise(
        "02_output_dimensions.ipynb",
        "def my_output_size(size, kernel_size, stride, padding, dilation):",
        src("""
            import math


            def my_output_size(size, kernel_size, stride, padding, dilation):
                room = size + 2 * padding - dilation * (kernel_size - 1) - 1
                return math.ceil(room / stride) + 1


            passed = check_output_size(my_output_size)
        """),
        src("""
            def my_output_size(size, kernel_size, stride, padding, dilation):
                room = size + 2 * padding - dilation * (kernel_size - 1) - 1
                return room // stride + 1


            passed = check_output_size(my_output_size)
        """),
        ("for my_output_size: it returns None.",),
        ("my_output_size: fn(size=", "you rounded up"),
        ("my_output_size: all 30 cases match nn.Conv2d.",),
    ),
    Exercise(
        "03_parameters.ipynb",
        "answer_a = None  # your count for nn.Conv2d(64, 128, 5)",
        src("""
            from cnnlib.exercises.params import check_layer_params

            answer_a = 128 * 64 * 5 * 5
            answer_b = 32 * 32 * 3 * 3
            check_layer_params(answer_a, 64, 128, 5)
            check_layer_params(answer_b, 32, 32, 3, bias=False, groups=32)
        """),
        src("""
            from cnnlib.exercises.params import check_layer_params

            answer_a = 128 * (64 * 5 * 5 + 1)
            answer_b = 32 * 3 * 3
            check_layer_params(answer_a, 64, 128, 5)
            check_layer_params(answer_b, 32, 32, 3, bias=False, groups=32)
        """),
        (
            "for the parameters of nn.Conv2d(64, 128, 5, bias=True, groups=1): replace None",
            "for the parameters of nn.Conv2d(32, 32, 3, bias=False, groups=32): replace None",
        ),
        (
            "it is not 204,800.",
            "one bias",
            "it is not 9,216.",
            "C_in / groups",
        ),
        ("204,928, correct.", "288, correct."),
    ),
    Exercise(
        "04_receptive_field.ipynb",
        "def my_receptive_field(layers):",
        src("""
            def my_receptive_field(layers):
                return 1 + sum(k - 1 for k, s, *rest in layers)


            check_receptive_field(my_receptive_field)
        """),
        src("""
            def my_receptive_field(layers):
                r, jump = 1, 1
                for k, s, *rest in layers:
                    r += (k - 1) * jump
                    jump *= s
                return r


            check_receptive_field(my_receptive_field)
        """),
        ("for my_receptive_field: it still raises NotImplementedError.",),
        ("my_receptive_field: fn(layers=", "strides of the layers *below*"),
        ("my_receptive_field: all 23 stacks match.",),
    ),
    Exercise(
        "05_equivariance.ipynb",
        "def my_shift(x, dy, dx):",
        src("""
            def my_shift(x, dy, dx):
                return np.roll(x, (dx, dy), axis=(0, 1))


            check_shift(my_shift)
        """),
        src("""
            def my_shift(x, dy, dx):
                h, w = x.shape
                return x[np.ix_((np.arange(h) - dy) % h, (np.arange(w) - dx) % w)]


            check_shift(my_shift)
        """),
        ("for my_shift: it returns None.",),
        ("my_shift: fn(x, dy=", "dy and dx are swapped"),
        ("my_shift: all 8 cases match np.roll.",),
    ),
    Exercise(
        "06_backprop.ipynb",
        "def my_grad_input(grad_out, w):",
        src("""
            def my_grad_input(grad_out, w):
                kh, kw = w.shape
                padded = np.pad(grad_out, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
                h, wd = padded.shape[0] - kh + 1, padded.shape[1] - kw + 1
                out = np.zeros((h, wd))
                for i in range(h):
                    for j in range(wd):
                        out[i, j] = np.sum(padded[i : i + kh, j : j + kw] * w)
                return out


            check_grad_input(my_grad_input)
        """),
        src("""
            def my_grad_input(grad_out, w):
                kh, kw = w.shape
                padded = np.pad(grad_out, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
                r = w[::-1, ::-1]
                h, wd = padded.shape[0] - kh + 1, padded.shape[1] - kw + 1
                out = np.zeros((h, wd))
                for i in range(h):
                    for j in range(wd):
                        out[i, j] = np.sum(padded[i : i + kh, j : j + kw] * r)
                return out


            check_grad_input(my_grad_input)
        """),
        ("for my_grad_input: it returns None.",),
        ("my_grad_input: fn(grad_out, w): wrong values.", "the kernel is not rotated"),
        ("my_grad_input: all 8 cases match torch autograd.",),
    ),
    Exercise(
        "07_architectures.ipynb",
        "def my_patchify(images, patch_size):",
        src("""
            def my_patchify(images, patch_size):
                n, c, h, w = images.shape
                p = patch_size
                return images.reshape(n, (h // p) * (w // p), c * p * p)


            check_patchify(my_patchify)
        """),
        src("""
            def my_patchify(images, patch_size):
                n, c, h, w = images.shape
                p = patch_size
                x = images.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
                return x.reshape(n, (h // p) * (w // p), c * p * p)


            check_patchify(my_patchify)
        """),
        ("for my_patchify: it still raises NotImplementedError.",),
        (
            "my_patchify: fn(images of shape (1, 1, 4, 4), patch_size=2): the numbers differ.",
            "reshape alone does not cut patches",
        ),
        ("my_patchify: all 4 cases match F.unfold.",),
    ),
]

#: 01's Exercise 1 as given: its starter is itself a wrong answer (it returns conv2d(x,
#: kernel)), so only ``wrong_says`` is used: what running it as given must say
CONVOLVE = Exercise(
    notebook="01_convolution.ipynb",
    marker="def my_convolve2d(x, kernel):",
    wrong="",
    right="",
    no_answer=(),
    wrong_says=("my_convolve2d: fn(x, kernel): wrong values.", "cross-correlation"),
    right_says=(),
)
COMBINED = "exercises_in_one_kernel.ipynb"


@dataclass
class Placed:
    """Where an exercise's cells stand in the combined notebook (indices, every cell counted)."""

    setup: list[int]
    cell: int


def _placed_in_one_notebook(exercises: list[Exercise]) -> dict[str, Placed]:
    """Write ``COMBINED``: for each exercise, a cell that empties the kernel's namespace (so
    that nothing an earlier exercise defined hides a cell the slice missed), the cells its
    notebook runs before it (what ``cells_needed`` finds for its cell and its two answers),
    then its cell; return where."""
    sources: list[str] = []
    placed = {}
    for ex in exercises:
        path = NOTEBOOKS / ex.notebook
        code = dict(notebook_code(path))
        index = next((i for i, source in code.items() if ex.marker in source), None)
        assert index is not None, f"{ex.notebook}: no code cell holds {ex.marker!r}"
        needed = cells_needed(path, [setup_cell(path), index], reads=(ex.wrong, ex.right))
        setup = [len(sources)]
        sources.append("%reset -f")
        for i in needed:
            if i != index:
                setup.append(len(sources))
                sources.append(code[i])
        placed[ex.marker] = Placed(setup, len(sources))
        sources.append(code[index])
    write_notebook(COMBINED, [("code", source) for source in sources])
    return placed


@pytest.fixture(scope="module")
def exercise_page(lab, browser):
    """The combined notebook, open in one page with its kernel, for every test here."""
    placed = _placed_in_one_notebook([*EXERCISES, CONVOLVE])
    with new_page(browser) as page:
        open_notebook(page, COMBINED)
        yield page, placed


_COUNT_JS = "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.executionCount"


def _exercise_cell(exercise_page, ex: Exercise):
    """Run the exercise's set-up cells; return its cell (a locator), scrolled into view."""
    page, placed = exercise_page
    where = placed[ex.marker]
    run_cells(page, where.setup)
    assert not error_outputs(page), error_outputs(page)
    cell = page.locator(".jp-Notebook .jp-Cell").nth(where.cell)
    cell.scroll_into_view_if_needed()
    return cell


def shown_output(page, cell) -> str:
    """Run the cell as it now reads (Shift+Enter in its editor); return the text shown under it."""
    index = cell.evaluate("(el) => Array.from(el.parentElement.children).indexOf(el)")
    before = page.evaluate(_COUNT_JS, index)
    editor = cell.locator(".jp-InputArea-editor .cm-content").first
    editor.click()
    page.keyboard.press("Shift+Enter")
    wait_until(
        lambda: (
            page.evaluate(_COUNT_JS, index) not in (None, before) and kernel_status(page) == "idle"
        ),
        timeout=60,
        what="the exercise cell to run",
    )
    output = cell.locator(".jp-OutputArea")
    wait_until(lambda: output.inner_text().strip(), timeout=30, what="the checker's message")
    return output.inner_text()


def type_into(page, cell, source: str) -> None:
    """Replace the cell's text as a student does: select all in its editor, paste the answer."""
    editor = cell.locator(".jp-InputArea-editor .cm-content").first
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(source)
    wait_until(
        lambda: editor.inner_text().strip().startswith(source.splitlines()[0].strip()),
        what="the typed answer in the editor",
    )


def assert_one_verdict(text: str, mark: str, says: tuple[str, ...]) -> None:
    lines = [line for line in text.splitlines() if line.startswith((NO_ANSWER, FAIL, PASS))]
    assert lines and all(line.startswith(mark) for line in lines), text
    for words in says:
        assert words in text, f"{words!r} is not in the message:\n{text}"
    if mark == FAIL:
        assert text.count(HINT) == len(lines), f"a failure without a hint:\n{text}"
    assert not re.search(r"^\[\d+\]:", text, re.M), f"an Out[] value is shown:\n{text}"
    assert "Traceback" not in text, text


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.notebook[:2])
def test_an_exercise_answered_with_nothing_wrong_and_right(exercise_page, ex):
    page, _ = exercise_page
    cell = _exercise_cell(exercise_page, ex)

    starter = shown_output(page, cell)
    assert_one_verdict(starter, NO_ANSWER, ex.no_answer)
    assert "expected" not in starter  # nothing of the solution before an attempt

    type_into(page, cell, ex.wrong)
    assert_one_verdict(shown_output(page, cell), FAIL, ex.wrong_says)

    type_into(page, cell, ex.right)
    assert_one_verdict(shown_output(page, cell), PASS, ex.right_says)
    screenshot(cell, f"exercise_{ex.notebook[:2]}_right")


def test_01_exercise_1_as_given_does_not_print_the_solution(exercise_page):
    """01's Exercise 1 starter returns conv2d(x, kernel): judged wrong, with a hint that guides."""
    page, _ = exercise_page
    cell = _exercise_cell(exercise_page, CONVOLVE)
    text = shown_output(page, cell)
    assert_one_verdict(text, FAIL, CONVOLVE.wrong_says)
    assert "[::-1" not in text and "180" not in text, text
