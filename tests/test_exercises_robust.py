"""Exercise checkers never crash and never hang on a learner's answer (issue 14, item 11), and
speak one message style (issue 12, item 7).

Each answer below once crashed or hung a checker: ``check_patchify`` on a list of patch
tensors, a string, a dict or an object array; the six array checkers and
``check_output_value`` on ``10**400``, an object whose ``__array__`` raises, a meta tensor;
an endless iterator hung the checkers that read an iterable. Now each ends with one verdict
and a hint.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.signal  # noqa: F401 - loaded here, so that no timing guard counts its import
import torch

from cnnlib.exercises import _report
from cnnlib.exercises._report import FAIL, HINT, NO_ANSWER, PASS
from cnnlib.exercises.architectures import check_basic_block, check_compound_scaling, check_patchify
from cnnlib.exercises.backprop import check_grad_input, check_grad_weight, check_max_pool_backward
from cnnlib.exercises.conv import (
    check_conv2d,
    check_convolve2d,
    check_max_pool2d,
    check_output_shape,
    check_output_value,
)
from cnnlib.exercises.equivariance import check_circulant, check_equivariant_shifts, check_shift
from cnnlib.exercises.params import check_conv2d_params, check_layer_params
from cnnlib.exercises.receptive import check_receptive_field, check_window
from cnnlib.exercises.shapes import check_lost_pixels, check_output_size, check_same_padding
from cnnlib.exercises.training import check_training_loop

# torch's first optimiser loads its compiler machinery (seconds on a loaded machine): made
# here, so that the hang guard below does not count it against check_training_loop
torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)

#: a hang guard, not a speed goal: these verdicts take a few milliseconds
GUARD_S = 3.0


class RaisingArray:
    """An object whose ``__array__`` raises (NumPy once let the error through the checker)."""

    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array here")

    def __float__(self):
        raise RuntimeError("no number here")


class LongIterator:
    """An iterator that would go on for ``n`` items and counts how many were taken.

    It stands in for an endless one (``itertools.count()``) so that a checker that reads it
    all fails this test instead of eating the machine's memory.
    """

    def __init__(self, n: int = 200_000) -> None:
        self.n, self.taken = n, 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.taken >= self.n:
            raise StopIteration
        self.taken += 1
        return self.taken


def verdict(capsys, check, *args, **kwargs) -> str:
    """Run a checker; assert it returned (no exception) within the guard with one verdict."""
    start = time.monotonic()
    check(*args, **kwargs)
    elapsed = time.monotonic() - start
    out = capsys.readouterr().out
    assert elapsed < GUARD_S, f"{check.__name__} took {elapsed:.1f} s"
    assert out.startswith((PASS, FAIL, NO_ANSWER)), out
    assert sum(out.count(mark) for mark in (PASS, FAIL, NO_ANSWER)) == 1, out
    if out.startswith(FAIL):
        hint = out.rsplit(HINT, 1)
        assert len(hint) == 2 and hint[1].strip(), f"no hint:\n{out}"
    assert "could not read your answer" not in out, out  # a foreseen case, not the safety net
    return out


ARRAY_CHECKERS = [
    check_conv2d,
    check_convolve2d,
    check_max_pool2d,
    check_grad_weight,
    check_grad_input,
    check_max_pool_backward,
]


@pytest.mark.parametrize("check", ARRAY_CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (10**400, "too large for a float"),
        (RaisingArray(), "no array here"),
        (torch.zeros(3, 3, device="meta"), "meta device"),
        (iter(range(10**9)), "iterator"),
        ("abc", "text"),
        (np.array([[1 + 2j]]), "complex"),
    ],
    ids=["10**400", "__array__ raises", "meta tensor", "endless iterator", "text", "complex"],
)
def test_array_checkers_judge_any_result(capsys, check, answer, words):
    out = verdict(capsys, check, lambda *args, **kwargs: answer)
    assert out.startswith(FAIL) and words in out, out


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ([torch.zeros(4), torch.zeros(4)], "returned shape (2, 4), expected (1, 4, 4)"),
        ("patches", "text"),
        ({"patches": 1}, "dict"),
        (np.array([object(), 1.0], dtype=object), "not an array of numbers"),
        (10**400, "too large"),
        (torch.zeros(1, 4, 4, device="meta"), "meta device"),
    ],
    ids=["list of tensors", "string", "dict", "object array", "10**400", "meta"],
)
def test_patchify_checker_judges_any_result(capsys, answer, words):
    out = verdict(capsys, check_patchify, lambda images, p: answer)
    assert out.startswith(FAIL) and words in out, out


def test_patchify_right_as_a_list_of_patches_passes(capsys):
    """A nested list of numbers with the right values is a right answer."""

    def listed(images, p):
        n, c, h, w = images.shape
        x = images.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
        return x.reshape(n, (h // p) * (w // p), c * p * p).tolist()

    assert verdict(capsys, check_patchify, listed).startswith(PASS)


X = np.arange(9.0).reshape(3, 3)
K = np.array([[0.0, 1.0], [2.0, 3.0]])


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (10**400, "too large"),
        (RaisingArray(), "no number here"),
        (torch.zeros((), device="meta"), "meta"),
        (iter(range(10**9)), "not a number"),
        (True, "not a number"),
        (np.array([19.0]), "not a number"),
    ],
    ids=["10**400", "raising", "meta", "iterator", "bool", "1-element array"],
)
def test_output_value_judges_any_answer(capsys, answer, words):
    out = verdict(capsys, check_output_value, answer, X, K, 0, 0)
    assert out.startswith(FAIL) and words in out, out


def test_output_value_accepts_numbers_of_any_kind(capsys):
    # 0*0 + 1*1 + 3*2 + 4*3 = 19
    for answer in (19, 19.0, np.int8(19), np.float32(19), torch.tensor(19.0, dtype=torch.bfloat16)):
        assert verdict(capsys, check_output_value, answer, X, K, 0, 0).startswith(PASS)


ITERABLE_ANSWER_CHECKERS = [
    (lambda a: check_output_shape(a, (8, 3, 32, 32), (16, 3, 5, 5)), "output shape"),
    (lambda a: check_equivariant_shifts(a, stride=3), "equivariant shifts"),
    (lambda a: check_same_padding(lambda k, d: a), "same padding"),
    (lambda a: check_lost_pixels(lambda size, k, s: a), "lost pixels"),
    (lambda a: check_window(lambda layers, unit: a), "window"),
    (lambda a: check_compound_scaling(lambda phi, alpha, beta, gamma: a), "compound scaling"),
]


@pytest.mark.parametrize(
    ("check", "name"), ITERABLE_ANSWER_CHECKERS, ids=[n for _, n in ITERABLE_ANSWER_CHECKERS]
)
def test_an_endless_iterator_is_read_only_so_far(capsys, check, name):
    answer = LongIterator()
    start = time.monotonic()
    check(answer)
    out = capsys.readouterr().out
    assert time.monotonic() - start < GUARD_S
    assert answer.taken <= _report.MAX_ITEMS + 1, f"{name}: read {answer.taken} items"
    assert out.startswith(FAIL) and f"more than {_report.MAX_ITEMS} items" in out, out
    assert HINT in out


# -- the learner's function raises, loops, or is still the starter ------------------------------

FUNCTION_CHECKERS = [
    check_conv2d,
    check_convolve2d,
    check_max_pool2d,
    check_grad_weight,
    check_grad_input,
    check_max_pool_backward,
    check_output_size,
    check_same_padding,
    check_lost_pixels,
    check_conv2d_params,
    check_receptive_field,
    check_window,
    check_shift,
    check_circulant,
    check_basic_block,
    check_patchify,
    check_compound_scaling,
    check_training_loop,
]


@pytest.mark.parametrize("check", FUNCTION_CHECKERS, ids=lambda c: c.__name__)
def test_a_starter_that_raises_is_not_written_yet(capsys, check):
    def my_answer(*args, **kwargs):
        raise NotImplementedError  # your code here

    out = verdict(capsys, check, my_answer)
    assert out.startswith(f"{NO_ANSWER} for my_answer: it still raises NotImplementedError."), out
    assert "raised NotImplementedError: " not in out and "expected" not in out


@pytest.mark.parametrize("check", FUNCTION_CHECKERS, ids=lambda c: c.__name__)
def test_a_starter_that_returns_none_has_no_answer_yet(capsys, check):
    def my_answer(*args, **kwargs):
        # your code here
        return None

    out = verdict(capsys, check, my_answer)
    assert out.startswith(f"{NO_ANSWER} for my_answer: it returns None."), out


@pytest.mark.parametrize("check", FUNCTION_CHECKERS, ids=lambda c: c.__name__)
def test_an_error_names_the_line_and_ends_with_a_hint(capsys, check):
    def my_answer(*args, **kwargs):
        values = [1, 2, 3]
        return values[10]

    out = verdict(capsys, check, my_answer)
    assert out.startswith(f"{FAIL} my_answer: ") and "raised IndexError: list index" in out
    assert "(line " in out and "`return values[10]`" in out, out


def test_an_empty_error_message_is_not_a_dangling_colon(capsys):
    def my_answer(*args, **kwargs):
        raise ValueError

    out = verdict(capsys, check_conv2d, my_answer)
    assert "raised ValueError (line" in out and "ValueError: " not in out, out


def test_a_later_none_or_not_implemented_is_a_failure_of_that_case(capsys):
    calls = []

    def partial(size, kernel_size, stride, padding, dilation):
        calls.append(1)
        if len(calls) > 1:
            raise NotImplementedError("dilation")
        return 28

    out = verdict(capsys, check_output_size, partial)
    assert out.startswith(FAIL) and "raised NotImplementedError: dilation" in out, out
    assert "this case is not written yet" in out


@pytest.mark.parametrize("check", [check_conv2d, check_lost_pixels, check_patchify])
def test_an_endless_loop_ends_in_a_verdict(capsys, monkeypatch, check):
    monkeypatch.setattr(_report, "TIME_LIMIT_S", 0.3)

    def my_answer(*args, **kwargs):
        while True:
            try:
                time.sleep(0.01)
            except Exception:  # a learner's catch-all must not swallow the time limit
                pass

    out = verdict(capsys, check, my_answer)
    assert out.startswith(FAIL) and "did not finish" in out and "0.3 s" in out, out


def test_the_time_limit_works_outside_the_main_thread(capsys, monkeypatch):
    """Off the main thread there is no SIGALRM: a watchdog thread stops the learner's loop."""
    import threading

    monkeypatch.setattr(_report, "TIME_LIMIT_S", 0.3)
    box = {}

    def my_answer(*args, **kwargs):
        while True:
            pass

    def run():
        box["ok"] = check_conv2d(my_answer)

    t = threading.Thread(target=run)
    t.start()
    t.join(GUARD_S)
    assert not t.is_alive()
    assert not box["ok"]
    assert "did not finish" in capsys.readouterr().out


def test_a_checker_does_not_leave_its_timer_running():
    import signal

    check_conv2d(lambda x, k, stride=1, padding=0: np.zeros((2, 2)))
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is not _report._raise_timeout


# -- one message style -------------------------------------------------------------------------


def test_value_checkers_say_which_answer_is_missing(capsys):
    """03's exercise 1 once printed "the answer must be a whole number, got None" twice."""
    check_layer_params(None, 64, 128, 5)
    first = capsys.readouterr().out
    check_layer_params(None, 32, 32, 3, bias=False, groups=32)
    second = capsys.readouterr().out
    assert first.startswith(f"{NO_ANSWER} for the parameters of nn.Conv2d(64, 128, 5")
    assert second.startswith(f"{NO_ANSWER} for the parameters of nn.Conv2d(32, 32, 3")
    for check, args in [
        (check_output_value, (X, K, 0, 0)),
        (check_output_shape, ((8, 3, 32, 32), (16, 3, 5, 5))),
        (check_equivariant_shifts, ()),
    ]:
        out = verdict(capsys, check, None, *args)
        assert out.startswith(f"{NO_ANSWER} for ") and "replace None" in out, out


def test_the_convolve2d_starter_hint_does_not_give_the_solution(capsys):
    """01's exercise 1 as given returns conv2d(x, kernel): the hint must guide, not solve."""
    from cnnlib.conv import conv2d

    def my_convolve2d(x, kernel):
        return conv2d(x, kernel)  # almost: one thing is missing

    out = verdict(capsys, check_convolve2d, my_convolve2d)
    assert out.startswith(f"{FAIL} my_convolve2d: ") and "cross-correlation" in out
    assert "[::-1" not in out and "180" not in out and "flip" not in out, out


def test_patchify_hints_name_common_mistakes(capsys):
    def channel_last(images, p):
        n, c, h, w = images.shape
        x = images.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
        return x.reshape(n, (h // p) * (w // p), c * p * p)

    def plain_reshape(images, p):
        n, c, h, w = images.shape
        return images.reshape(n, (h // p) * (w // p), c * p * p)

    def unfold_layout(images, p):
        return torch.nn.functional.unfold(images, p, stride=p)

    def column_order(images, p):
        n, c, h, w = images.shape
        x = images.reshape(n, c, h // p, p, w // p, p).permute(0, 4, 2, 1, 3, 5)
        return x.reshape(n, (h // p) * (w // p), c * p * p)

    for fn, words in [
        (channel_last, "channel first"),
        (plain_reshape, "reshape alone does not cut patches"),
        (unfold_layout, "the layout F.unfold returns"),
        (column_order, "row by row"),
    ]:
        out = verdict(capsys, check_patchify, fn)
        assert out.startswith(FAIL) and words in out, (fn.__name__, out)


def test_a_checker_result_is_true_on_a_pass_and_shows_nothing_in_a_notebook(capsys):
    from cnnlib.exercises._report import Result

    right = check_output_value(19, X, K, 0, 0)
    wrong = check_output_value(20, X, K, 0, 0)
    capsys.readouterr()
    assert isinstance(right, Result) and right and right == True  # noqa: E712
    assert not wrong and wrong == False  # noqa: E712
    assert right._ipython_display_() is None  # IPython shows no Out[] for it


# -- found by mutation testing: the shared verdict machinery (cnnlib.exercises._report) -----------
def test_a_timeout_names_the_input_it_happened_on(capsys, monkeypatch):
    monkeypatch.setattr(_report, "TIME_LIMIT_S", 0.1)

    def forever(*args):
        while True:
            pass

    for how in ("call", "read"):
        with _report.Judge("my_fn", "the hint") as j:
            if how == "call":
                j.call("fn(x)", forever, 1, where="x = 7 (the input)")
            else:
                j.read("fn(x)", forever, where="x = 7 (the input)")
        out = capsys.readouterr().out
        assert out.startswith(FAIL) and "did not finish" in out and "x = 7 (the input)" in out


def test_an_error_inside_the_judging_still_ends_in_a_verdict_with_the_hint(capsys):
    with _report.Judge("my_fn", "look at the first row.") as j:
        raise KeyError("surprise")
    out = capsys.readouterr().out
    assert out.startswith(f"{FAIL} my_fn") and "KeyError" in out and "surprise" in out
    assert f"{HINT} look at the first row." in out and not j.ok


def test_a_class_whose_init_raises_is_shown_the_line(capsys):
    class BrokenBlock(torch.nn.Module):
        def __init__(self, in_channels, channels, stride=1):
            super().__init__()
            self.width = channels // 0

    check_basic_block(BrokenBlock)
    out = capsys.readouterr().out
    assert "ZeroDivisionError" in out and "`self.width = channels // 0`" in out, out


def test_as_array_says_why_a_value_is_not_an_array():
    from fractions import Fraction

    said = _report.as_array(v for v in [1.0])
    assert isinstance(said, str) and "iterator (generator)" in said
    said = _report.as_array(np.array(["2020-01-01"], dtype="datetime64[D]"))
    assert isinstance(said, str) and "datetime64" in said
    said = _report.as_array(Fraction(1, 2))  # a 0-d object array that float64 would accept
    assert isinstance(said, str) and "Fraction" in said


def test_show_and_whole_number_show_the_learners_value():
    text = _report.show(np.arange(20))  # a NumPy repr of 60 to 120 characters is kept whole
    assert "19" in text and "..." not in text
    with pytest.raises(TypeError, match=r"^array\(\[1, 2\]\) is an array of shape \(2,\)"):
        _report.whole_number(np.array([1, 2]))


def test_answers_differing_only_at_their_end_are_different_answers():
    a, b = np.zeros(200), np.zeros(200)
    b[-1] = 1.0
    assert _report.fingerprint(a) != _report.fingerprint(b)
    assert _report.fingerprint(a) == _report.fingerprint(np.zeros(200))


def test_the_one_line_report_names_the_count_and_the_reference(capsys):
    assert _report.report("my_fn", None, 3, "PyTorch") is True
    assert capsys.readouterr().out == f"{PASS} my_fn: all 3 cases match PyTorch.\n"
    assert _report.report("my_fn", "off by one.", 3) is False
    assert capsys.readouterr().out == f"{FAIL} my_fn: off by one.\n"
