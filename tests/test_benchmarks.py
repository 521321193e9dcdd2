"""The benchmarks' own arithmetic: what they time computes the right numbers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from benchmarks.bench_conv import cases
from benchmarks.bench_conv_winograd import cook_toom, winograd_f2x3, winograd_plain


@pytest.mark.parametrize(("m", "r"), [(2, 3), (4, 3), (2, 5), (3, 3)])
def test_cook_toom_matrices_compute_a_1d_correlation(m, r):
    a_t, g, b_t = cook_toom(m, r)
    assert (
        a_t.shape == (m, m + r - 1) and g.shape == (m + r - 1, r) and b_t.shape == (m + r - 1,) * 2
    )
    rng = np.random.default_rng(m * 10 + r)
    kernel, signal = rng.standard_normal(r), rng.standard_normal(m + r - 1)
    got = a_t @ ((g @ kernel) * (b_t @ signal))
    np.testing.assert_allclose(got, np.correlate(signal, kernel, "valid"), atol=1e-12)


def test_f2x3_from_lavin_and_gray():
    """The published F(2, 3) input transform, up to the sign of a row."""
    published = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
    _, _, b_t = cook_toom(2, 3)
    np.testing.assert_array_equal(np.abs(b_t), np.abs(published))


@pytest.mark.parametrize("m", [2, 4])
def test_winograd_plain_matches_torch(m):
    rng = np.random.default_rng(m)
    x = rng.standard_normal((2, 3, 2 + 3 * m, 2 + 2 * m))
    w = rng.standard_normal((4, 3, 3, 3))
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy()
    np.testing.assert_allclose(winograd_plain(x, w, m), expected, atol=1e-10)


@pytest.mark.parametrize(("h", "w", "band"), [(7, 10, 2), (8, 8, 8), (5, 3, 1)])
def test_winograd_f2x3_matches_torch_on_odd_and_even_sizes(h, w, band):
    rng = np.random.default_rng(h * w)
    x = rng.standard_normal((2, 5, h, w)).astype(np.float32)
    weight = rng.standard_normal((3, 5, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(3).astype(np.float32)
    args = (torch.from_numpy(a).double() for a in (x, weight, bias))
    expected = F.conv2d(*args, padding=1).numpy()
    got = winograd_f2x3(x, weight, bias, band=band)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-5 * (1 + np.abs(expected).max()))


def test_conv_benchmark_cases_agree_with_torch():
    """``cases`` checks each layer's conv2d against torch before it is timed."""
    labels = [label for label, _, _ in cases()]
    assert len(labels) == 5 and len(set(labels)) == 5
