"""The course's table of contents as data: one entry per notebook, with its prerequisites.

``LESSONS`` is the single source of the order, the titles and the prerequisite graph; the index
notebook prints its table from it and draws the map of ideas (``course_map``) from it, and a test
checks that it lists exactly the files in ``notebooks/``. Each entry also records the code
behind its notebook: the ``cnnlib`` modules it teaches from, its interactive views, its exercise
checkers (a module of ``cnnlib.exercises``) and its time budget; ``tests/test_course.py``
checks these against the notebooks' own imports, and the browser smoke test and the notebook
benchmark read them (``smoke``: which control of which view to move).
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnnlib._validate import check_int


@dataclass(frozen=True)
class Lesson:
    """One notebook of the course.

    ``short`` names it on the map and ``ideas`` are its key words there; ``requires`` lists
    the numbers of the notebooks it builds on directly (the map draws one arrow per entry);
    ``outside`` lists what it needs from outside the course.
    """

    number: int
    file: str
    title: str
    short: str
    ideas: tuple[str, ...]
    learn: str
    requires: tuple[int, ...] = ()
    outside: tuple[str, ...] = ()
    #: the cnnlib modules whose formulas the notebook teaches (``conv`` for ``cnnlib.conv``)
    modules: tuple[str, ...] = ()
    #: the interactive views it shows (classes of ``cnnlib.widgets``)
    views: tuple[str, ...] = ()
    #: the module of ``cnnlib.exercises`` that checks its exercises
    checkers: str = ""
    #: seconds a fresh kernel may take to run it top to bottom on a quiet 2-core machine
    budget_s: float = 15.0
    #: the browser smoke test's move: ``(view, control, key presses)``
    smoke: tuple[str, str, int] | None = None


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        1,
        "01_convolution.ipynb",
        "Convolution and pooling",
        "Convolution",
        ("cross-correlation", "channels, bias", "max / avg pooling"),
        "how one output number is made (window times kernel, summed), what a kernel finds in a "
        "photo, channels and bias, pooling; loops, NumPy and PyTorch agree",
        (),
        ("NumPy arrays: indexing, slicing, broadcasting",),
        modules=("conv",),
        views=("SlidingKernel", "PoolingView", "ActivationExplorer"),
        checkers="conv",
        budget_s=15.0,
        smoke=("SlidingKernel", "col", 2),
    ),
    Lesson(
        2,
        "02_output_dimensions.ipynb",
        "Output dimensions",
        "Output size",
        ("padding, stride", "dilation", "transposed conv"),
        "the output-size formula and its proof, 'same' and 'valid' padding, stride, ceil_mode, "
        "transposed convolution",
        (1,),
        modules=("shapes",),
        views=("DimensionsExplorer",),
        checkers="shapes",
        budget_s=15.0,
        smoke=("DimensionsExplorer", "stride", 1),
    ),
    Lesson(
        3,
        "03_parameters.ipynb",
        "Parameters and compute",
        "Parameters",
        ("weight sharing", "MACs, memory", "depthwise, 1x1"),
        "where a layer's parameters live, why convolutions need so few, multiply-accumulates "
        "and memory, grouped / depthwise / 1x1 convolutions, summary()",
        (2,),
        modules=("params",),
        views=("ParametersView",),
        checkers="params",
        budget_s=15.0,
        smoke=("ParametersView", "kernel_size", 2),
    ),
    Lesson(
        4,
        "04_receptive_field.ipynb",
        "Receptive field",
        "Receptive field",
        ("field size", "effective stride", "dilated stacks"),
        "which input pixels one output unit sees, how stride and dilation grow it layer by "
        "layer, the effective stride and padding of a whole network",
        (2,),
        modules=("receptive",),
        views=("ReceptiveFieldExplorer",),
        checkers="receptive",
        budget_s=15.0,
        smoke=("ReceptiveFieldExplorer", "unit_col", 2),
    ),
    Lesson(
        5,
        "05_equivariance.ipynb",
        "Translation equivariance",
        "Equivariance",
        ("shift in, shift out", "borders, aliasing", "blur pooling"),
        "shift the input and the output shifts (proved and checked), where it breaks (borders, "
        "stride, pooling) and the blur-pooling remedy",
        (2,),
        modules=("equivariance",),
        views=("EquivarianceExplorer",),
        checkers="equivariance",
        budget_s=15.0,
        smoke=("EquivarianceExplorer", "shift_x", 1),
    ),
    Lesson(
        6,
        "06_backprop.ipynb",
        "Backpropagation through convolution",
        "Backprop",
        ("dL/dw, dL/dx", "rotated kernel", "gradient check"),
        "the two gradients of a convolution from the chain rule, the 180-degree rotated kernel, "
        "stride as dilation, max-pool routing, numerical gradient checks",
        (2,),
        ("a little calculus: partial derivatives and the chain rule",),
        modules=("backprop",),
        views=("GradientView",),
        checkers="backprop",
        budget_s=15.0,
        smoke=("GradientView", "col", 1),
    ),
    Lesson(
        7,
        "07_architectures.ipynb",
        "Architectures",
        "Architectures",
        ("LeNet to ViT", "skip connections", "train a small CNN"),
        "LeNet-5 to the Vision Transformer built from scratch and counted live (depth, "
        "parameters, MACs, receptive field), skip connections, training a small CNN on a CPU",
        (3, 4, 6),
        modules=("architectures", "params", "receptive", "training"),
        views=("ModelView",),
        checkers="architectures",
        budget_s=15.0,
        smoke=("ModelView", "layer", 2),
    ),
    Lesson(
        8,
        "08_what_a_cnn_sees.ipynb",
        "What a CNN sees",
        "What a CNN sees",
        ("activations, one unit", "saliency, CAM", "CAM = Grad-CAM"),
        "a trained network's activation maps and one unit opened up, what drives a channel, "
        "saliency maps, CAM and Grad-CAM, and data whose brightness does not give the object "
        "away",
        (4, 6, 7),
        modules=("explain",),
        views=("ActivationExplorer", "SaliencyView"),
        checkers="explain",
        budget_s=60.0,
        smoke=("ActivationExplorer", "col", -1),
    ),
    Lesson(
        9,
        "09_is_an_explanation_right.ipynb",
        "Is an explanation right?",
        "Is it right?",
        ("scoreboard, baselines", "planted shortcut", "sanity checks"),
        "scoring attribution maps against ground truth with the rows that would embarrass them "
        "(model-free maps, random weights, bootstrap intervals), deletion and insertion, a "
        "planted shortcut, and the sanity checks of Adebayo et al. and Kindermans et al.",
        (8,),
        modules=("explain", "training"),
        views=("SaliencyView",),
        checkers="explain",
        budget_s=60.0,
        smoke=("SaliencyView", "image", 1),
    ),
)


def lesson(number: int) -> Lesson:
    """The lesson numbered ``number`` (1-based, as in the file names)."""
    check_int("number", number, minimum=1)
    if number > len(LESSONS):
        raise ValueError(f"number must be at most {len(LESSONS)} (the last notebook), got {number}")
    return LESSONS[number - 1]


def edges() -> list[tuple[int, int]]:
    """The prerequisite arrows ``(a, b)``: notebook ``a`` comes before notebook ``b``."""
    return [(a, item.number) for item in LESSONS for a in item.requires]


def all_requirements(number: int) -> list[int]:
    """Every notebook to read before ``number``: its prerequisites, theirs, and so on, sorted."""
    found: set[int] = set()
    todo = list(lesson(number).requires)
    while todo:
        a = todo.pop()
        if a not in found:
            found.add(a)
            todo.extend(lesson(a).requires)
    return sorted(found)


def depth(number: int) -> int:
    """Length of the longest prerequisite chain that ends at ``number`` (0 for a start)."""
    item = lesson(number)
    return 1 + max((depth(a) for a in item.requires), default=-1)


def table_markdown(link_prefix: str = "") -> str:
    """The table of contents as a Markdown table, with a relative link to each notebook."""
    rows = [
        "| # | Notebook | What you learn | Builds on |",
        "|---|---|---|---|",
    ]
    for item in LESSONS:
        before = ", ".join(f"{a:02d}" for a in item.requires)
        extra = "; ".join(item.outside)
        needs = "; ".join(part for part in (before, extra) if part) or "nothing but Python"
        link = f"[{item.title}]({link_prefix}{item.file})"
        rows.append(f"| {item.number:02d} | {link} | {item.learn} | {needs} |")
    return "\n".join(rows)


def course_map(ax: Axes | None = None) -> Figure:
    """Draw the map of ideas: one box per notebook, one arrow per prerequisite.

    Notebooks stand in columns by ``depth`` (the longest chain of prerequisites before them),
    so every arrow points to the right; what the course needs from outside stands in grey.
    """
    from cnnlib.plotting import draw_box_graph, new_figure

    if ax is None:
        fig = new_figure(13.0, 7.0, dpi=80)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    columns: dict[int, list[int]] = {}
    for item in LESSONS:
        columns.setdefault(depth(item.number), []).append(item.number)
    boxes: dict[str, tuple[float, float, str, str]] = {}
    for col, numbers in columns.items():
        for row, number in enumerate(numbers):
            item = lesson(number)
            y = 1.6 * ((len(numbers) - 1) / 2 - row)
            boxes[f"{number:02d}"] = (
                3.4 * col,
                y,
                f"{number:02d}  {item.short}",
                "\n".join(item.ideas),
            )
    arrows = [(f"{a:02d}", f"{b:02d}") for a, b in edges()]
    bottom = min(y for _, y, _, _ in boxes.values()) - 1.6
    outside_arrows = []
    for item in LESSONS:
        for k, need in enumerate(item.outside):
            key = f"outside {item.number}.{k}"
            x = boxes[f"{item.number:02d}"][0]
            boxes[key] = (x, bottom, need.split(":")[0], "")
            outside_arrows.append((key, f"{item.number:02d}"))
    draw_box_graph(ax, boxes, arrows + outside_arrows, muted={k for k, _ in outside_arrows})
    return fig


#: the tag of the two cells of a notebook that carry its navigation line (first line of the
#: top cell, the whole bottom cell). A tag, not an HTML comment: a line that starts with
#: ``<!--`` is a raw HTML block in CommonMark, and its links are not links.
NAV_TAG = "nav"
INDEX_FILE = "00_index.ipynb"


def nav_markdown(number: int, where: str = "top") -> str:
    """The navigation line of notebook ``number``, as Markdown links (clickable everywhere).

    ``where="top"``: ``← [previous](file) | [Course index](00_index.ipynb) | [next](file) →``;
    ``where="bottom"``: ``**Next:** [next](file) → · Back to the [Course index](...)``.
    """
    from cnnlib._validate import check_choice

    check_choice("where", where, ("top", "bottom"))
    lesson(number)  # checks the number
    before = lesson(number - 1) if number > 1 else None
    after = lesson(number + 1) if number < len(LESSONS) else None

    def link(other: Lesson) -> str:
        return f"[{other.number:02d} · {other.title}]({other.file})"

    index = f"[Course index]({INDEX_FILE})"
    if where == "top":
        parts = [f"← {link(before)}" if before else f"← {index}"]
        if before:
            parts.append(index)
        if after:
            parts.append(f"{link(after)} →")
        return " | ".join(parts)
    head = f"**Next:** {link(after)} →" if after else "**End of the course.**"
    return f"{head} · Back to the {index}"


def save_notebook(path, nb: dict, text: str) -> bool:
    """Write ``nb`` to ``path`` in Jupyter's own layout (indent 1, UTF-8, a final newline) if
    that differs from ``text``, the file as read; returns whether it did."""
    import json
    from pathlib import Path

    new = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if new != text:
        Path(path).write_text(new, encoding="utf-8")
    return new != text


def write_nav(path) -> bool:
    """Rewrite the navigation lines of the notebook at ``path`` from ``LESSONS``.

    Touches only the two cells tagged ``NAV_TAG`` (the first line of the first, the whole
    second); returns whether the file changed. ``python -m cnnlib.course`` runs it on every
    notebook of the course.
    """
    import json
    from pathlib import Path

    path = Path(path)
    number = int(path.name[:2])
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    cells = [c for c in nb["cells"] if NAV_TAG in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 2:
        raise ValueError(f"{path.name} must have 2 cells tagged {NAV_TAG!r}, has {len(cells)}")
    top = "".join(cells[0]["source"]).split("\n")
    top[0] = nav_markdown(number, "top")
    sources = ["\n".join(top), nav_markdown(number, "bottom")]
    for cell, source in zip(cells, sources, strict=True):
        lines = source.split("\n")
        cell["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    return save_notebook(path, nb, text)


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "notebooks"
    for item in LESSONS:
        if write_nav(root / item.file):
            print("updated", item.file)
