"""The map of ideas: plotting.draw_box_graph and cnnlib.course.course_map."""

import numpy as np
import pytest
from matplotlib.path import Path

from cnnlib import course
from cnnlib.plotting import draw_box_graph, new_figure


def _arrow_points(arrow):
    """The arrow's vertices in data coordinates, without the closing vertex of its head."""
    path = arrow.get_path()
    keep = path.codes != Path.CLOSEPOLY if path.codes is not None else slice(None)
    return path.vertices[keep]


def _centre(patch):
    box = patch.get_bbox()
    return (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2


def test_draw_box_graph_places_boxes_and_joins_them():
    fig = new_figure(6, 3)
    ax = fig.add_subplot()
    boxes = {"a": (0.0, 0.0, "A", "first"), "b": (4.0, 1.0, "B", "second")}
    patches, arrows = draw_box_graph(ax, boxes, [("a", "b")], width=2.0, height=1.0)
    assert _centre(patches["a"]) == pytest.approx((0.0, 0.0))
    assert _centre(patches["b"]) == pytest.approx((4.0, 1.0))
    assert len(arrows) == 1
    fig.canvas.draw()
    # the arrow runs between the boxes' borders: from a's right edge (x = 1) to b's left (x = 3)
    xy = _arrow_points(arrows[0])
    assert xy[:, 0].min() >= 1.0 and xy[:, 0].max() <= 3.0
    tip = xy[np.argmax(xy[:, 0])]
    assert tip[0] > 2.7 and 0.5 <= tip[1] <= 1.0  # the head touches b, not a
    texts = {t.get_text() for t in ax.texts}
    assert {"A", "B", "first", "second"} <= texts


def test_draw_box_graph_rejects_unknown_keys():
    ax = new_figure().add_subplot()
    with pytest.raises(ValueError, match="edges"):
        draw_box_graph(ax, {"a": (0, 0, "A", "")}, [("a", "z")])


def test_course_map_draws_every_notebook_and_every_prerequisite():
    fig = course.course_map()
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    for item in course.LESSONS:
        assert f"{item.number:02d}  {item.short}" in texts
    arrows = [p for p in ax.patches if type(p).__name__ == "FancyArrowPatch"]
    outside = sum(len(item.outside) for item in course.LESSONS)
    assert len(arrows) == len(course.edges()) + outside


def test_course_map_arrows_point_forward():
    fig = course.course_map()
    ax = fig.axes[0]
    fig.canvas.draw()
    centres = {}
    for t in ax.texts:
        label = t.get_text()
        if label[:2].isdigit():
            centres[int(label[:2])] = t.get_position()
    for a, b in course.edges():
        assert centres[a][0] < centres[b][0], f"{a:02d} -> {b:02d} points backwards"
    arrows = [p for p in ax.patches if type(p).__name__ == "FancyArrowPatch"]
    for (a, b), arrow in zip(course.edges(), arrows, strict=False):
        xy = _arrow_points(arrow)
        assert xy[:, 0].min() > centres[a][0] and xy[:, 0].max() < centres[b][0], (a, b)
