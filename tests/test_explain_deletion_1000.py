"""Notebook 09's deletion and insertion claims on 1,000 test images (the notebook runs 40 live:
each curve costs 65 forward passes per image, about 10 minutes of CPU for 1,000). Marked
``thorough``: ``make test-thorough`` runs it, ``make test`` does not.

The claims are the ones 09 asserts after its deletion/insertion table, with the same settings
(64 steps, blur fill, area above the curve's floor, 95 % bootstrap intervals), so a claim that
holds on 40 images by luck fails here."""

import numpy as np
import pytest

from cnnlib import explain
from cnnlib.training import trained_shapes_cnn

pytestmark = pytest.mark.thorough
N_IMAGES = 1000


@pytest.fixture(scope="module")
def area():
    run = trained_shapes_cnn()
    model, x, y = run.model, run.test.images[:N_IMAGES], run.test.labels[:N_IMAGES]
    assert len(y) == N_IMAGES
    maps = {
        "cam": explain.attribution_map(model, x, y, "cam"),
        "gradient_x_input": explain.attribution_map(model, x, y, "gradient_x_input"),
        "edges": explain.baseline_map(x, "edges"),
        "random": explain.baseline_map(x, "random"),
    }
    result = {}
    for name, m in maps.items():
        for kind in ("deletion", "insertion"):
            curve = explain.deletion_curve(
                model, x, y, m, steps=64, baseline="blur", insertion=kind == "insertion"
            )
            result[name, kind] = explain.bootstrap_interval(curve.above_floor)
    return result


def test_cam_deletes_and_inserts_better_than_a_random_order(area):
    assert area["cam", "deletion"][2] < area["random", "deletion"][1]
    assert area["cam", "insertion"][1] > area["random", "insertion"][2]


def test_cam_beats_gradient_x_input(area):
    assert area["cam", "deletion"][0] < area["gradient_x_input", "deletion"][0]
    assert area["cam", "insertion"][1] > area["gradient_x_input", "insertion"][2]


def test_gradient_x_input_inserts_no_faster_than_random_and_slower_than_edges(area):
    assert area["gradient_x_input", "insertion"][1] < area["random", "insertion"][2]
    assert area["edges", "insertion"][0] > area["gradient_x_input", "insertion"][2]


def test_intervals_are_narrow_on_1000_images(area):
    widths = [hi - lo for _, lo, hi in area.values()]
    assert max(widths) < 0.1, np.round(widths, 3)
