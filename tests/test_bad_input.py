"""Issue 14 (bad input, second round): one regression test per item, written before the fix.

Cases that could allocate a lot run in a child process whose address space is limited
(``limited``), so that a regression fails this test instead of killing the test runner.
"""

from __future__ import annotations

import atexit
import json
import select
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cnnlib
from cnnlib import backprop, conv, equivariance, params, receptive, shapes
from cnnlib._validate import check_bool, check_memory, memory_budget

LIMIT_BYTES = 3 * 2**30  # on top of the child's own imports

# One child serves every call (importing torch once, not once per case): it limits its own
# address space after its imports, then runs each snippet in a fresh namespace. A snippet
# that kills it (or hangs) is reported as "died", and the next call starts a new child.
_SERVER = (
    f"LIMIT_BYTES = {LIMIT_BYTES}\n"
    + """
import gc, json, resource, sys
import numpy as np, torch
import cnnlib
from cnnlib import architectures, backprop, conv, data, equivariance, params, shapes

def vm():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024

limit = vm() + LIMIT_BYTES
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
out, sys.stdout = sys.stdout, sys.stderr  # a stray print must not break the protocol
out.write("READY\\n")
out.flush()
for line in sys.stdin:
    scope = dict(np=np, torch=torch, cnnlib=cnnlib, backprop=backprop, conv=conv, data=data,
                 equivariance=equivariance, params=params, shapes=shapes)
    try:
        exec(json.loads(line), scope)
        answer = {"ok": repr(scope["result"])[:2000]}
    except BaseException as exc:
        answer = {"error": type(exc).__name__, "message": str(exc)[:2000]}
    scope = None
    gc.collect()
    out.write("ANSWER" + json.dumps(answer) + "\\n")
    out.flush()
"""
)


class _Child:
    """The one limited child process (started on first use, restarted after a death)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.errors = None

    def _line(self, timeout: float) -> str | None:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline() if ready else None

    def _stop(self) -> dict:
        self.proc.kill()
        code = self.proc.wait()
        self.errors.seek(0)
        message = self.errors.read()[-2000:]
        self.proc = None
        return {"error": f"died ({code})", "message": message}

    def ask(self, code: str, timeout: float) -> dict:
        if self.proc is None:
            self.errors = tempfile.TemporaryFile("w+")
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _SERVER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.errors,
                text=True,
                env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
            )
            if self._line(120) != "READY\n":
                return self._stop()
        self.proc.stdin.write(json.dumps(code) + "\n")
        self.proc.stdin.flush()
        line = self._line(timeout)
        if not line or not line.startswith("ANSWER"):
            return self._stop()
        return json.loads(line[6:])


_CHILD = _Child()
atexit.register(lambda: _CHILD.proc and _CHILD.proc.kill())


def limited(code: str, timeout: float = 120) -> dict:
    """Run ``code`` (which sets ``result``) in a child limited to its imports + 3 GiB.

    Returns ``{"ok": repr(result)}`` or ``{"error": type name, "message": str}``.
    """
    return _CHILD.ask(textwrap.dedent(code), timeout)


def assert_refused(answer: dict, *names: str) -> None:
    assert answer.get("error") == "ValueError", answer
    assert any(n in answer["message"] for n in names), answer


# -- 1. conv2d with a dtype the BLAS path cannot take --------------------------------------------
def test_item1_conv2d_longdouble_blas_path_is_right():
    x = w = np.ones((1, 16, 3, 3), np.longdouble)
    got = conv.conv2d(x, w)
    assert got.shape == (1, 1, 1, 1)
    assert float(got[0, 0, 0, 0]) == 144.0
    assert np.allclose(conv.conv2d(x, w, padding=1), conv.conv2d_naive(x, w, padding=1))


# -- 2. shift_consistency with fewer labels than images ------------------------------------------
def test_item2_shift_consistency_refuses_wrong_number_of_labels():
    images = np.zeros((3, 1, 8, 8))
    with pytest.raises(ValueError, match="classifier"):
        equivariance.shift_consistency(lambda b: np.array([0, 1]), images, 2)
    with pytest.raises(ValueError, match="classifier"):
        equivariance.shift_consistency(lambda b: np.zeros((2, 5)), images, [(1, 0)])


# -- 3. eps, binomial_filter, erf_moments ------------------------------------------------------
def test_item3_numerical_gradient_eps_rules():
    f = lambda a: float((a**2).sum())  # noqa: E731
    x = np.array([1.0, -2.0])
    got = backprop.numerical_gradient(f, x, np.float32(1e-3))
    assert np.allclose(got, 2 * x, atol=1e-4)
    for eps in (np.inf, np.nan, -1.0, 0.0):
        with pytest.raises(ValueError, match="eps"):
            backprop.numerical_gradient(f, x, eps)
    with pytest.raises(TypeError, match="eps"):
        backprop.numerical_gradient(f, x, True)


def test_item3_binomial_filter_large_is_finite_and_binomial():
    k = equivariance.binomial_filter(1100)
    assert np.all(np.isfinite(k))
    assert np.isclose(k.sum(), 1.0)
    # the 1-D marginal is the binomial distribution B(1099, 1/2) (scipy as reference)
    from scipy.stats import binom

    row = k.sum(axis=1)
    assert np.allclose(row, binom.pmf(np.arange(1100), 1099, 0.5), rtol=1e-9, atol=1e-300)
    assert np.allclose(equivariance.binomial_filter(3), np.outer([1, 2, 1], [1, 2, 1]) / 16)


@pytest.mark.parametrize(
    "erf, error",
    [
        (np.array([[1.0, np.nan], [1.0, 1.0]]), ValueError),
        (np.array([[1.0, np.inf], [1.0, 1.0]]), ValueError),
        (np.ones((2, 2), complex), TypeError),
        ({"a": 1}, TypeError),
    ],
)
def test_item3_erf_moments_refuses_nan_and_complex(erf, error):
    with pytest.raises(error, match="erf"):
        receptive.erf_moments(erf)


# -- 4. memory: refuse up front by name, or compute without materialising -------------------------
def test_item4_huge_pooling_window_is_a_small_job():
    """torch gives a 1x1 output at once; so must cnnlib, without allocating the window."""
    x = np.arange(25.0).reshape(5, 5)
    for code, expected in [
        ("result = conv.max_pool2d(np.arange(25.0).reshape(5, 5), 10**6, ceil_mode=True)", 24.0),
        ("result = conv.avg_pool2d(np.arange(25.0).reshape(5, 5), 10**6, ceil_mode=True)", None),
    ]:
        answer = limited(code)
        assert "ok" in answer, answer
        if expected is not None:
            assert answer["ok"] == repr(np.array([[expected]])), answer
    answer = limited("result = conv.max_pool2d(np.ones((5, 5)), 40001, stride=1, padding=20000)")
    assert answer == {"ok": repr(np.ones((5, 5)))}, answer
    t = torch.from_numpy(x)[None, None]
    want = F.avg_pool2d(t, 10**6, ceil_mode=True)[0, 0].numpy()
    with memory_budget(2**20):
        got = conv.avg_pool2d(x, 10**6, ceil_mode=True)
        assert np.allclose(got, want)
        assert np.allclose(conv.max_pool2d(x, 10**6, ceil_mode=True), [[24.0]])


@pytest.mark.parametrize(
    "code, names",
    [
        ("result = conv.conv2d(np.ones((5, 5)), np.ones((3, 3)), padding=20000)", ("padding",)),
        ("result = backprop.dilate(np.ones((4, 30, 30)), 10**5)", ("stride",)),
        ("result = shapes.conv_grid(10**8, 3)", ("size",)),
        ("result = data.checkerboard(10**6)", ("size",)),
        # a broadcast input of 8.6 GB: the fast path must not copy it in full
        (
            "x = np.broadcast_to(np.float32(1), (32, 16, 2048, 2048))\n"
            "result = conv.conv2d(x, np.ones((16, 16, 3, 3), np.float32))",
            ("x",),
        ),
    ],
)
def test_item4_big_jobs_are_refused_by_name_before_allocating(code, names):
    assert_refused(limited(code), *names)


def test_item4_budget_is_settable_and_documented():
    assert cnnlib.get_memory_budget() == 2**30
    old = cnnlib.set_memory_budget(2**20)
    try:
        with pytest.raises(ValueError, match="memory budget"):
            conv.conv2d(np.ones((300, 300)), np.ones((3, 3)), padding=100)
    finally:
        cnnlib.set_memory_budget(old)
    assert conv.conv2d(np.ones((300, 300)), np.ones((3, 3)), padding=100).shape == (498, 498)
    with pytest.raises(ValueError, match="nbytes"):
        cnnlib.set_memory_budget(0)


def test_item4_default_budget_is_one_gib_counted_in_bytes():
    """The documented default (1 GiB in cnnlib's docstring and the README), in bytes: a job of
    exactly 2**30 bytes runs, one byte more is refused; a budget cut to an eighth (counted in
    bits) would refuse the job of 2**27 + 1 bytes."""
    assert cnnlib.get_memory_budget() == 2**30
    assert "1 GiB" in cnnlib.__doc__
    check_memory("x 1", 2**30)
    check_memory("x 1", 2**27 + 1)
    with pytest.raises(ValueError, match=r"x 1 makes the result need about 1 GiB, .* of 1 GiB"):
        check_memory("x 1", 2**30 + 1)


def test_item4_broadcast_batch_computes_in_chunks_within_budget():
    x = np.broadcast_to(np.arange(16.0).reshape(1, 16, 1, 1), (64, 16, 64, 64))
    w = np.ones((2, 16, 3, 3))
    with memory_budget(8 * 2**20):  # the full copy would need 32 MiB
        got = conv.conv2d(x, w, padding=1)
    want = F.conv2d(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(w), padding=1)
    assert np.allclose(got, want.numpy())


# -- 5. a stride of 2**62 ---------------------------------------------------------------------
@pytest.mark.parametrize("fn", ["conv2d", "max_pool2d", "avg_pool2d", "conv2d_backward"])
def test_item5_huge_stride_gives_one_by_one_as_torch(fn):
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    s = 2**62
    tx = torch.from_numpy(x)
    if fn == "conv2d":
        w = np.ones((1, 1, 3, 3))
        got, want = conv.conv2d(x, w, stride=s), F.conv2d(tx, torch.from_numpy(w), stride=s)
    elif fn == "max_pool2d":  # torch's pooling takes strides up to 2**31 - 1
        got, want = conv.max_pool2d(x, 3, stride=s), F.max_pool2d(tx, 3, stride=2**31 - 1)
    elif fn == "avg_pool2d":
        got, want = conv.avg_pool2d(x, 3, stride=s), F.avg_pool2d(tx, 3, stride=2**31 - 1)
    else:
        w = np.ones((1, 1, 3, 3))
        g = np.ones((1, 1, 1, 1))
        gx, gw, gb = backprop.conv2d_backward(g, x, w, stride=s)
        tw = torch.from_numpy(w).requires_grad_()
        tx.requires_grad_()
        F.conv2d(tx, tw, stride=s).sum().backward()
        assert np.allclose(gw, tw.grad.numpy())
        got, want = gx, tx.grad
    assert np.allclose(got, want.detach().numpy())
    gx = backprop.max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 3, stride=s)
    tp = torch.from_numpy(x).requires_grad_()
    F.max_pool2d(tp, 3, stride=2**31 - 1).sum().backward()  # autograd routes it to the maximum
    assert np.array_equal(gx, tp.grad.numpy())
    assert gx[0, 0, 2, 2] == gx.sum() == 1.0  # the one window's maximum, 12, sits at (2, 2)
    with pytest.raises(ValueError, match="stride"):
        conv.conv2d(x, np.ones((1, 1, 3, 3)), stride=2**63)


# -- 6. torch bfloat16 input ------------------------------------------------------------------
def test_item6_bfloat16_tensor_is_taken_or_refused_by_name():
    x = torch.arange(16.0).reshape(1, 1, 4, 4).to(torch.bfloat16)
    got = conv.max_pool2d(x, 2)
    assert np.array_equal(got, F.max_pool2d(x.float(), 2).numpy())
    got = conv.conv2d(x, np.ones((1, 1, 2, 2)))
    assert np.allclose(got, F.conv2d(x.float(), torch.ones(1, 1, 2, 2)).numpy())
    with pytest.raises(TypeError, match="x"):
        conv.conv2d(torch.empty(1, 1, 4, 4, device="meta"), np.ones((1, 1, 2, 2)))


# -- 7. torch's errors in receptive_field_of, count_macs, summary ------------------------------
def test_item7_receptive_field_of_names_input_size():
    with pytest.raises(ValueError, match="input_size"):
        receptive.receptive_field_of(nn.Conv2d(3, 8, 3), (1, 3, 2, 2))
    with pytest.raises(ValueError, match="input_size"):
        receptive.receptive_field_of(nn.Conv2d(3, 8, 3), (1, 4, 8, 8))


@pytest.mark.parametrize("fn", ["count_macs", "summary"])
def test_item7_count_macs_and_summary_refuse_huge_input_by_name(fn):
    answer = limited(f"result = params.{fn}(torch.nn.Conv2d(3, 8, 3), (1, 3, 40000, 40000))")
    assert_refused(answer, "input_size")
    with pytest.raises(ValueError, match="input_size"):
        getattr(params, fn)(nn.Conv2d(3, 8, 3), (1, 4, 8, 8))


# -- 8. ZeroDivisionError, NumPy's and Python's messages ----------------------------------------
def test_item8_errors_name_the_argument():
    with pytest.raises(ValueError, match="stride"):
        equivariance.interior_is_empty((8, 8), 1, 1, (0, 1), 1)
    with pytest.raises(TypeError, match="size"):
        shapes.conv_grid((3, 3), 2)
    with pytest.raises(TypeError, match="value"):
        conv.pad2d(np.ones((3, 3)), 1, "zeros", "a")


# -- 9. receptive_field_of follows a mean over the image ---------------------------------------
class SqueezeExcite(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)

    def forward(self, x):
        y = self.conv(x)
        return y * torch.sigmoid(y.mean((2, 3), keepdim=True))


def test_item9_receptive_field_of_squeeze_excitation_with_mean_is_global():
    field = receptive.receptive_field_of(SqueezeExcite(), (1, 1, 16, 16))
    assert field.is_global


# -- 10. one rule for boolean flags ------------------------------------------------------------
def test_item10_flags_take_bool_and_numpy_bool_everywhere():
    x = np.arange(16.0).reshape(4, 4)
    assert np.array_equal(
        conv.max_pool2d(x, 3, 2, ceil_mode=np.True_), conv.max_pool2d(x, 3, 2, ceil_mode=True)
    )
    assert shapes.pool_output_size(4, 3, 2, ceil_mode=np.True_) == 2
    assert params.conv2d_params(3, 8, 3, bias=np.False_) == 216
    assert params.linear_params(3, 8, bias=np.True_) == 32
    assert shapes.conv_grid(5, 3, transposed=np.False_).output_size == 3
    for fn in (
        lambda v: conv.max_pool2d(x, 2, ceil_mode=v),
        lambda v: shapes.pool_output_size(4, 2, ceil_mode=v),
        lambda v: params.conv2d_params(3, 8, 3, bias=v),
        lambda v: receptive.receptive_field_of(nn.Conv2d(1, 1, 3), (1, 1, 8, 8), per_layer=v),
    ):
        for bad in (1, 0, "True", None):
            with pytest.raises(TypeError, match="must be True or False"):
                fn(bad)
    assert check_bool("flag", np.True_) is True


# -- 12. view constructors refuse by name, no silent clamping -----------------------------------
def test_item12_model_view_refuses_layer_out_of_range_and_wrong_types():
    from cnnlib.widgets.model import ModelView

    for bad, error in ((10**6, ValueError), (-5, ValueError), ("a", TypeError), (1.0, TypeError)):
        with pytest.raises(error, match="layer"):
            ModelView("LeNet-5", bad)
    with pytest.raises((ValueError, TypeError), match="model"):
        ModelView(["LeNet-5"])


def test_item12_gradient_view_seed_and_receptive_field_photo():
    from cnnlib.widgets.gradient import GradientView
    from cnnlib.widgets.receptive_field import ReceptiveFieldExplorer

    with pytest.raises(ValueError, match="seed"):
        GradientView(seed=-1)
    for bad in (1.5, "1", None):
        with pytest.raises(TypeError, match="seed"):
            GradientView(seed=bad)
    for bad in (1, 0, "yes", None):
        with pytest.raises(TypeError, match="photo"):
            ReceptiveFieldExplorer(photo=bad)
    with pytest.raises((ValueError, TypeError), match="preset"):
        ReceptiveFieldExplorer(preset={"a": 1})


# -- 13. torch's max_pool2d backward writes out of bounds on some configurations ---------------
def test_item13_predicate_finds_windows_wholly_in_the_padding():
    from cnnlib.backprop import torch_max_pool_backward_is_safe as safe

    # the configuration: input (2, 7), kernel (2, 4), stride (1, 4), padding (1, 2),
    # dilation (3, 3): the first row's windows hold padding rows only (taps -1 and 2 of 2 rows)
    assert not safe((2, 7), (2, 4), (1, 4), (1, 2), (3, 3))
    assert safe((8, 8), 3, 2, 1, 1)
    assert safe((7, 7), (2, 4), (1, 4), (1, 2), (1, 1))
    # the predicate against a direct count of the taps inside the input
    rng = np.random.default_rng(0)
    for _ in range(300):
        h, w = rng.integers(1, 9, 2)
        k = rng.integers(1, 5, 2)
        s = rng.integers(1, 5, 2)
        p = [rng.integers(0, kk // 2 + 1) for kk in k]
        d = rng.integers(1, 4, 2)
        ceil = bool(rng.integers(0, 2))
        try:
            out = shapes.pool_output_size(
                (int(h), int(w)),
                tuple(map(int, k)),
                tuple(map(int, s)),
                tuple(map(int, p)),
                tuple(map(int, d)),
                ceil,
            )
        except ValueError:
            continue
        empty = False
        for axis, size in enumerate((h, w)):
            for i in range(out[axis]):
                taps = [i * s[axis] - p[axis] + m * d[axis] for m in range(k[axis])]
                if not any(0 <= t < size for t in taps):
                    empty = True
        args = (
            (int(h), int(w)),
            tuple(map(int, k)),
            tuple(map(int, s)),
            tuple(map(int, p)),
            tuple(map(int, d)),
            ceil,
        )
        assert safe(*args) == (not empty), args


# -- found by the fuzz suite (a Same value: the numbers of x in Fortran order) -------------------
def test_numerical_gradient_of_a_fortran_ordered_x():
    """The loop wrote through ``x.reshape(-1)``, a copy for Fortran order: zeros came back."""
    x = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    got = backprop.numerical_gradient(lambda v: float((v**2).sum()), x, 1e-3)
    assert np.allclose(got, 2 * x)


def test_shapes_huge_n_is_refused_by_the_memory_budget():
    from cnnlib import data

    with pytest.raises(ValueError, match="n=2147483648"):
        data.shapes(2**31)


def test_pooling_invariance_bad_shifts_named():
    from cnnlib import equivariance

    images = np.zeros((1, 4, 4))
    with pytest.raises(TypeError, match="shifts"):
        equivariance.pooling_invariance(images, [2], {1, 2})


# -- follow-up: the architecture builders against the memory budget -----------------------------
@pytest.mark.parametrize(
    "code, names",
    [
        ("result = architectures.resnet18(num_classes=10**7)", ("num_classes=10000000",)),
        ("result = architectures.resnet50(num_classes=10**7)", ("num_classes=10000000",)),
        ("result = architectures.vgg16(num_classes=2**31)", ("num_classes=2147483648",)),
        ("result = architectures.vgg16_bn(num_classes=10**7)", ("num_classes=10000000",)),
        ("result = architectures.alexnet(num_classes=10**7)", ("num_classes=10000000",)),
        ("result = architectures.mobilenet_v2(num_classes=10**7)", ("num_classes=10000000",)),
        ("result = architectures.efficientnet_b0(num_classes=10**7)", ("num_classes=10000000",)),
        ("result = architectures.vit_b_16(num_classes=10**7)", ("num_classes=10000000",)),
        ("result = architectures.lenet5(num_classes=10**8)", ("num_classes=100000000",)),
        ("result = architectures.lenet5(True, num_classes=10**8)", ("num_classes=100000000",)),
        ("result = architectures.shapes_cnn(num_classes=2**40)", ("num_classes=",)),
        ("result = architectures.shapes_cnn(in_channels=10**8)", ("in_channels=100000000",)),
        (
            "result = architectures.simple_cnn(widths=(8, 10**4, 10**4))",
            ("widths=(8, 10000, 10000)",),
        ),
        ("result = architectures.mlp(hidden=(10**5, 10**5))", ("hidden=(100000, 100000)",)),
        ("result = architectures.mlp(in_features=2**62)", ("in_features=",)),
        # a million tiny layers: 148 parameters each, but about 4 KiB of Python objects
        ("result = architectures.deep_stack(10**6, channels=4)", ("depth=1000000",)),
        ("result = architectures.deep_stack(4, channels=10**5)", ("channels=100000",)),
        ("result = architectures.ResNet(architectures.BasicBlock, (2, 2, 2**40, 2))", ("depths",)),
        ("result = architectures.VisionTransformer(dim=10**5)", ("dim=100000",)),
        (
            "result = architectures.VisionTransformer(image_size=2**20, patch_size=1)",
            ("image_size",),
        ),
    ],
)
def test_architecture_builders_refuse_models_past_the_memory_budget(code, names):
    assert_refused(limited("from cnnlib import architectures\n" + code, timeout=60), *names)


def test_architecture_budget_follows_set_memory_budget():
    from cnnlib import architectures as arch

    with memory_budget(4_000_000):
        with torch.device("meta"), pytest.raises(ValueError, match="depths=.*memory budget"):
            arch.resnet18(num_classes=10)  # 11.2 M parameters: 45 MB
        model = arch.shapes_cnn()  # 6,076 parameters: 24 KB (and 18 modules, about 72 KiB)
    assert sum(p.numel() for p in model.parameters()) == 6_076
    with memory_budget(None), torch.device("meta"):
        big = arch.vgg16(num_classes=10**7)  # 41 G parameters: no limit (meta allocates nothing)
    assert big.classifier[-1].out_features == 10**7


def test_architecture_flags_are_bools():
    from cnnlib import architectures as arch

    with pytest.raises(TypeError, match="modern"):
        arch.lenet5(modern=1)
    with pytest.raises(TypeError, match="skip"):
        arch.deep_stack(2, skip=1)
    with pytest.raises(TypeError, match="batch_norm"):
        arch.deep_stack(2, batch_norm="yes")
    with pytest.raises(ValueError, match="depths must give 4"):
        arch.ResNet(arch.BasicBlock, (2, 2, 2))


def test_pointing_game_masks_are_boolean_by_name():
    """A 0/1 mask of numbers is refused (a mask is not a weighting); any container of bools is a
    mask; an empty image is refused by name, not by NumPy's reshape."""
    from cnnlib.explain import pointing_game

    maps = np.zeros((6, 7))
    maps[2, 3] = 1.0
    mask = np.zeros((6, 7), bool)
    mask[2, 3] = True
    assert pointing_game(maps, mask) is True
    assert pointing_game(maps, torch.from_numpy(mask)) is True
    assert pointing_game(maps, mask.tolist()) is True
    for numbers in (mask.astype(np.float64), mask.astype(np.int64), mask.astype(np.uint8)):
        with pytest.raises(TypeError, match="masks must be boolean.*m > 0"):
            pointing_game(maps, numbers)
    with pytest.raises(TypeError, match="masks"):
        pointing_game(maps, torch.empty(6, 7, dtype=torch.bool, device="meta"))
    with pytest.raises(ValueError, match="at least one pixel"):
        pointing_game(maps, np.zeros((6, 0), bool))
    with pytest.raises(ValueError, match="at least one pixel"):
        pointing_game(np.zeros((6, 0)), mask)
    assert pointing_game(np.zeros((0, 6, 7)), np.zeros((0, 6, 7), bool)).shape == (0,)


def test_vision_transformer_heads_must_divide_the_width():
    """Built with dim 4 and 3 heads, the model failed only in forward (a reshape)."""
    from cnnlib import architectures as arch

    with pytest.raises(ValueError, match="num_heads 3"):
        arch.VisionTransformer(8, 4, 1, 3, 4, 8, 2)
    model = arch.VisionTransformer(8, 4, 1, 2, 4, 8, 2)
    assert model(torch.zeros(1, 3, 8, 8)).shape == (1, 2)


# -- found by the fuzz suite once its draws changed (new seeds for the same strategies) ---------
def test_im2col_huge_padding_is_refused_by_the_memory_budget():
    answer = limited("result = conv.im2col(np.ones((4, 6, 7)), 3, padding=10**6)")
    assert_refused(answer, "padding (1000000, 1000000)")


@pytest.mark.parametrize("baseline", [print, "3", object(), 1 + 2j, {"a": 1}])
def test_integrated_gradients_names_a_junk_baseline(baseline):
    from cnnlib import explain

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    with pytest.raises(TypeError, match="baseline"):
        explain.integrated_gradients(model, torch.zeros(1, 1, 5, 5), 0, baseline=baseline)


def test_torch_max_pool_backward_is_safe_on_a_huge_input_allocates_little():
    """It built every window position (8 GiB for 2**31 windows); only the windows starting
    outside the input can miss it."""
    assert limited("result = backprop.torch_max_pool_backward_is_safe(2**31, 1)") == {"ok": "True"}
    assert backprop.torch_max_pool_backward_is_safe(3, 2, 1, 1, 4) is False  # taps at -1, 3


@pytest.mark.parametrize("baseline", [float("nan"), np.float32("nan"), np.full((1, 5, 5), np.inf)])
def test_integrated_gradients_refuses_a_non_finite_baseline(baseline):
    from cnnlib import explain

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    with pytest.raises(ValueError, match="baseline"):
        explain.integrated_gradients(model, torch.zeros(1, 1, 5, 5), 0, baseline=baseline)


@pytest.mark.parametrize(
    "build, error, name",
    [
        (lambda a: a.AlexNet(dropout=1.5), ValueError, "dropout"),
        (lambda a: a.AlexNet(dropout="0.5"), TypeError, "dropout"),
        (lambda a: a.MobileNetV2(dropout=-0.1), ValueError, "dropout"),
        (lambda a: a.EfficientNet(stochastic_depth=1.0), ValueError, "stochastic_depth"),
        (lambda a: a.VGG(config=(64, "N")), TypeError, "config[1]"),
        (lambda a: a.VGG(config=()), TypeError, "config"),
        (lambda a: a.VGG(config=(2**31,)), ValueError, "config=(2147483648,)"),
        (lambda a: a.VGG(batch_norm=1), TypeError, "batch_norm"),
        (lambda a: a.ResNet("BasicBlock", (2, 2, 2, 2)), TypeError, "block"),
    ],
)
def test_model_classes_name_their_bad_arguments(build, error, name):
    from cnnlib import architectures

    with torch.device("meta"), pytest.raises(error) as info:
        build(architectures)
    assert name in str(info.value)


# -- found by a wider fuzz sweep (4x the examples, random seeds) ---------------------------------
def test_shape_params_huge_n_is_refused_by_the_memory_budget():
    assert_refused(limited("result = data.shape_params(2**31)"), "n=2147483648")


def test_shift_consistency_shifts_are_pairs_not_ints():
    """``(2, 3)`` read as two diagonal shifts (2, 2) and (3, 3) (check_pair's int rule)."""
    images = np.zeros((2, 1, 6, 6))
    with pytest.raises(TypeError, match=r"shifts\[0\] must be a \(dy, dx\) pair"):
        equivariance.shift_consistency(lambda b: np.zeros((len(b), 2)), images, (2, 3))
    assert equivariance.shift_consistency(lambda b: np.zeros((len(b), 2)), images, [(2, 3)]) == 1


def test_occlusion_refuses_a_non_finite_baseline():
    from cnnlib import explain

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    with pytest.raises(ValueError, match="baseline"):
        explain.occlusion(model, torch.zeros(1, 1, 5, 5), 0, patch=2, baseline=float("nan"))
    got = explain.occlusion(model, torch.zeros(1, 1, 5, 5), 0, patch=2, baseline=np.float32(0.5))
    assert got.shape == (1, 1, 5, 5)


def test_gradient_view_refuses_an_empty_weight_by_name():
    from cnnlib.widgets import GradientView

    with pytest.raises(ValueError, match="weight must be between 1 x 1"):
        GradientView(weight=np.zeros((3, 0)))


@pytest.mark.parametrize(
    "code, names",
    [
        ("result = architectures.ConvBlock(10**5, 10**5)", ("_channels=100000",)),
        ("result = architectures.ConvBlock(3, 4, kernel_size=10**5)", ("kernel_size=",)),
        ("result = architectures.DepthwiseSeparableConv(10**5, 10**5)", ("=100000",)),
        ("result = architectures.StackBlock(10**5)", ("channels=100000",)),
        ("result = architectures.Subsampling(2**40)", ("channels=",)),
        ("result = architectures.RBFOutput(10**5, 10**5)", ("=100000",)),
        ("result = architectures.SqueezeExcitation(10**5, 10**5)", ("=100000",)),
        ("result = architectures.SelfAttention(10**5, 1)", ("dim=100000",)),
        ("result = architectures.EncoderBlock(8, 2, 10**9)", ("mlp_dim=1000000000",)),
        ("result = architectures.PatchEmbedding(2**20, 1, 8)", ("image_size=",)),
    ],
)
def test_architecture_blocks_refuse_sizes_past_the_memory_budget(code, names):
    assert_refused(limited("from cnnlib import architectures\n" + code, timeout=60), *names)
