"""The training-loop checker (notebook 03): the right loop passes, the common wrong loops are
named, the first miss gives a hint without the answer and the second gives the answer.

The right loop here is written independently of the checker's reference (a plain loop over
``torch.split``), so a shared mistake would not pass unnoticed.
"""

from __future__ import annotations

import types

import pytest
import torch
import torch.nn.functional as F

from cnnlib.exercises import training as ex
from cnnlib.exercises._report import ANSWER, ASK, FAIL, HINT, PASS, forget_misses


@pytest.fixture(autouse=True)
def _fresh_misses():
    forget_misses()


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the checker runs: tiny layers are slower on more threads
    yield
    torch.set_num_threads(threads)


def good(model, optimizer, x, y, x_test, y_test, epochs, batch_size):
    for _ in range(epochs):
        model.train()
        for xb, yb in zip(torch.split(x, batch_size), torch.split(y, batch_size), strict=True):
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        return float((model(x_test).argmax(1) == y_test).sum()) / len(y_test)


def no_zero_grad(model, optimizer, x, y, x_test, y_test, epochs, batch_size):
    for _ in range(epochs):
        for xb, yb in zip(torch.split(x, batch_size), torch.split(y, batch_size), strict=True):
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
    model.eval()
    return float((model(x_test).argmax(1) == y_test).float().mean())


def no_step(model, optimizer, x, y, x_test, y_test, epochs, batch_size):
    for _ in range(epochs):
        for xb, yb in zip(torch.split(x, batch_size), torch.split(y, batch_size), strict=True):
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
    model.eval()
    return float((model(x_test).argmax(1) == y_test).float().mean())


def no_eval(model, optimizer, x, y, x_test, y_test, epochs, batch_size):
    for _ in range(epochs):
        for xb, yb in zip(torch.split(x, batch_size), torch.split(y, batch_size), strict=True):
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
    return float((model(x_test).argmax(1) == y_test).float().mean())


def wrong_axis(model, optimizer, x, y, x_test, y_test, epochs, batch_size):
    for _ in range(epochs):
        for xb, yb in zip(torch.split(x, batch_size), torch.split(y, batch_size), strict=True):
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
    model.eval()
    return float((model(x_test).argmax(0) == y_test).float().mean())


def mse_loss(model, optimizer, x, y, x_test, y_test, epochs, batch_size):
    for _ in range(epochs):
        for xb, yb in zip(torch.split(x, batch_size), torch.split(y, batch_size), strict=True):
            optimizer.zero_grad()
            F.mse_loss(model(xb), F.one_hot(yb, 10).float()).backward()
            optimizer.step()
    model.eval()
    return float((model(x_test).argmax(1) == y_test).float().mean())


def run(fn, capsys, **kw):
    result = ex.check_training_loop(fn, **kw)
    return bool(result), capsys.readouterr().out


def test_an_independent_loop_passes(capsys):
    ok, out = run(good, capsys)
    assert ok and out.startswith(f"{PASS} good:"), out


@pytest.mark.parametrize(
    "fn, words",
    [
        (no_zero_grad, "zero_grad"),
        (no_step, "optimizer.step()"),
        (no_eval, "model.eval()"),
        (wrong_axis, "dim=1, not dim=0"),
        (mse_loss, "F.cross_entropy"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_each_wrong_loop_is_named(capsys, fn, words):
    ok, out = run(fn, capsys)
    assert not ok and out.startswith(f"{FAIL} {fn.__name__}:"), out
    hint = out.split(HINT, 1)[1]
    assert words in hint.split("\n")[0], out


def test_the_mistakes_change_the_numbers_on_every_case():
    # each mistake, made by the checker's own reference, gives other weights or another
    # accuracy than the right loop on every case, so none can pass by coincidence (the
    # evaluation mode is seen by a hook, whatever the accuracy)
    for seed, epochs, batch, n in ex.CASES:
        acc, params = ex._run(seed, epochs, batch, n)
        assert not ex._same(params, ex._run(seed, epochs, batch, n, zero_grad=False)[1])
        assert not ex._same(params, ex._run(seed, epochs, batch, n, step=False)[1])
        assert ex._run(seed, epochs, batch, n, axis=0)[0] != acc


def named(fn, name="my_train"):
    """``fn`` under the learner's name: two wrong answers to the same exercise."""
    return types.FunctionType(fn.__code__, fn.__globals__, name)


def test_first_miss_hints_and_second_miss_answers(capsys):
    _, first = run(named(no_zero_grad), capsys)
    assert (
        ASK in first and ANSWER not in first and "optimizer.zero_grad()" not in first.split(HINT)[0]
    )
    _, again = run(named(no_zero_grad), capsys)  # the same answer again is not a new miss
    assert ASK in again and ANSWER not in again
    _, second = run(named(no_step), capsys)
    assert f"{ANSWER} the loop" in second and "loss.backward()" in second.split(ANSWER)[1]


def test_show_answer_at_once(capsys):
    _, out = run(no_eval, capsys, show_answer=True)
    assert ANSWER in out and ASK not in out


def test_the_starter_is_no_answer(capsys):
    def my_train(model, optimizer, x, y, x_test, y_test, epochs, batch_size):
        return None

    ok, out = run(my_train, capsys)
    assert not ok and out.startswith("✏️ No answer yet for my_train"), out


def test_a_checker_argument_that_is_no_function():
    with pytest.raises(TypeError, match="fn must be a function"):
        ex.check_training_loop(0.5)


# -- found by mutation testing --------------------------------------------------------------------
def error_rate(model, optimizer, x, y, x_test, y_test, epochs, batch_size):
    """The right loop, then the error rate: the weights pass, the number does not."""
    return 1 - good(model, optimizer, x, y, x_test, y_test, epochs, batch_size)


def test_a_wrong_accuracy_keeps_the_expected_number_for_the_answer(capsys):
    seed, epochs, batch_size, n = ex.CASES[0]  # the first case, by this file's own loop
    model = ex._model(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=ex.LR)
    expected = good(model, optimizer, *ex._data(seed, n), epochs, batch_size)
    assert expected != 0.5  # so the error rate 1 - accuracy is a wrong number
    shown = f"(expected {expected:.4g} on this case)"
    ok, first = run(error_rate, capsys)
    assert not ok and "fraction of test images" in first.split(HINT)[1] and shown not in first
    # the verdict names the learner's answer; a lambda has no name: "your training loop"
    ok, again = run(lambda *args: error_rate(*args), capsys, show_answer=True)
    assert not ok and again.startswith(f"{FAIL} your training loop:")
    assert shown in again.split(ANSWER)[1]
