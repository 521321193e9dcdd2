"""The course's table of contents as data: one entry per notebook, with its prerequisites.

``LESSONS`` is the single source of the order, the titles and the prerequisite graph; the index
notebook prints its table from it and draws the map of ideas (``course_map``) from it, and a test
checks that it lists exactly the files in ``notebooks/``. Each entry also records the code
behind its notebook: the ``cnnlib`` modules it teaches from, its interactive views, its exercise
checkers (a module of ``cnnlib.exercises``) and its time budget; ``tests/test_course.py``
checks these against the notebooks' own imports, and the browser smoke test and the notebook
benchmark read them (``smoke``: which control of which view to move), and what it uses and
teaches (``CONCEPTS``). It also measures each notebook's core path against its "Going further"
sections (``path_stats``), writes the README's table of them (``python -m cnnlib.course table
--write``) and the slides' speaker notes (``python -m cnnlib.course notes``).
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
    #: the ideas of ``CONCEPTS`` its core path uses (its "Going further" sections aside)
    uses: tuple[str, ...] = ()
    #: the ideas of ``CONCEPTS`` it teaches (a notebook may use what it teaches)
    teaches: tuple[str, ...] = ()


#: what no notebook may use before the notebook that teaches it (``Lesson.uses``/``teaches``;
#: ``tests/test_course_path.py`` checks the order and that the lists match the code)
CONCEPTS: tuple[str, ...] = (
    "relu",
    "softmax",
    "loss",
    "gradient",
    "optimiser",
    "training loop",
    "backpropagation",
)


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
        "and memory, grouped / depthwise / 1x1 convolutions, summary(); how a network is "
        "trained (ReLU, softmax and cross-entropy, your own training loop)",
        (2,),
        modules=("params",),
        views=("ParametersView",),
        checkers="params",
        budget_s=15.0,
        smoke=("ParametersView", "kernel_size", 2),
        teaches=("relu", "softmax", "loss", "gradient", "optimiser", "training loop"),
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
        uses=("gradient",),
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
        uses=("relu",),
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
        uses=("loss", "gradient"),
        teaches=("backpropagation",),
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
        uses=("relu", "loss", "gradient", "optimiser", "training loop", "backpropagation"),
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
        uses=("relu", "loss", "gradient", "training loop", "backpropagation"),
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
        uses=("relu", "loss", "gradient", "optimiser", "training loop", "backpropagation"),
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


#: the heading that opens an optional section: ``## Going further: <what>``. The section runs to
#: the next level-2 heading; its cells are skipped by the slideshow and the core path never uses
#: what they define (``tests/test_course_path.py``).
GOING_FURTHER = "## Going further: "
#: the table's estimate of a notebook's lecture time: the core prose spoken at a usual lecture
#: pace (130 words a minute), plus a minute per code cell shown (run it, comment on the output)
#: and a minute per slide (turn to it, let the picture sink in)
WORDS_PER_MINUTE = 130
MINUTES_PER_CODE_CELL = 1.0
MINUTES_PER_SLIDE = 1.0
#: the notebooks a two-week unit teaches, and its lecture time (six 50-minute sessions and
#: change: at most 6 hours)
TWO_WEEK_PATH: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)
TWO_WEEK_MINUTES = 360
#: the target for each notebook's core-path prose, in words
CORE_WORDS_TARGET = 2000
TABLE_BEGIN = "<!-- course-path-table: generated by `python -m cnnlib.course table --write` -->"
TABLE_END = "<!-- end of course-path-table -->"


def _first_line(cell: dict) -> str:
    text = "".join(cell.get("source", "")).strip()
    return text.split("\n", 1)[0] if text else ""


def slide_type(cell: dict) -> str:
    """A cell's RISE slide type (``slide``, ``subslide``, ``fragment``, ``skip``, ``notes``),
    ``-`` when it continues the slide before it."""
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def is_solution(cell: dict) -> bool:
    """Whether a markdown cell is a folded solution (it opens with ``<details>``)."""
    return cell["cell_type"] == "markdown" and "".join(cell["source"]).lstrip().startswith(
        "<details>"
    )


def going_further(nb: dict) -> list[bool]:
    """For each cell of ``nb``: whether it lies in a "Going further" section.

    A section opens at a markdown cell whose first line starts with ``GOING_FURTHER`` and runs
    up to (not including) the next markdown cell whose first line is a level-1 or level-2
    heading that does not.
    """
    inside, marks = False, []
    for cell in nb["cells"]:
        line = _first_line(cell) if cell["cell_type"] == "markdown" else ""
        if line.startswith(GOING_FURTHER):
            inside = True
        elif line.startswith(("# ", "## ")):
            inside = False
        marks.append(inside)
    return marks


@dataclass(frozen=True)
class PathStats:
    """What one notebook asks of a lecture: its core-path prose, optional prose, slides."""

    number: int
    core_words: int
    optional_words: int
    slides: int
    code_on_slides: int

    @property
    def minutes(self) -> int:
        """Estimated lecture minutes, rounded up: core words / ``WORDS_PER_MINUTE``
        + ``MINUTES_PER_CODE_CELL`` x code cells on slides + ``MINUTES_PER_SLIDE`` x slides."""
        import math

        return math.ceil(
            self.core_words / WORDS_PER_MINUTE
            + MINUTES_PER_CODE_CELL * self.code_on_slides
            + MINUTES_PER_SLIDE * self.slides
        )


def path_stats(nb: dict, number: int = 0) -> PathStats:
    """Count the core path and the optional depth of the notebook ``nb`` (a parsed .ipynb).

    Words are the whitespace-separated words of markdown cells. Optional words are those in
    "Going further" sections and in folded solutions; core words are all the others. Slides
    count ``slide`` and ``subslide`` cells outside the optional sections; code cells on slides
    are code cells whose slide type is neither ``skip`` nor ``notes``.
    """
    core = optional = slides = code = 0
    for cell, further in zip(nb["cells"], going_further(nb), strict=True):
        kind = slide_type(cell)
        if cell["cell_type"] == "markdown":
            words = len("".join(cell["source"]).split())
            if further or is_solution(cell):
                optional += words
            elif kind != "notes":
                core += words
        if further or kind in ("skip", "notes"):
            continue
        slides += kind in ("slide", "subslide")
        code += cell["cell_type"] == "code"
    return PathStats(number, core, optional, slides, code)


#: the tag of the speaker-notes cells ``write_notes`` keeps: one after each slide of the core path
NOTES_TAG = "timing"


def section_minutes(nb: dict) -> list[tuple[int, float]]:
    """``(cell index, minutes)`` for each slide of the core path of ``nb``: the cell that opens
    the slide (slide type ``slide``, outside "Going further") and the estimated minutes of
    everything shown until the next one, by the rule of ``PathStats.minutes`` (unrounded)."""
    found: list[tuple[int, float]] = []
    for i, (cell, further) in enumerate(zip(nb["cells"], going_further(nb), strict=True)):
        kind = slide_type(cell)
        if further or kind == "skip" or NOTES_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if kind == "slide":
            found.append((i, 0.0))
        if not found or kind == "notes":
            continue
        minutes = 0.0
        if cell["cell_type"] == "markdown" and not is_solution(cell):
            minutes += len("".join(cell["source"]).split()) / WORDS_PER_MINUTE
        if cell["cell_type"] == "code":
            minutes += MINUTES_PER_CODE_CELL
        if kind in ("slide", "subslide"):
            minutes += MINUTES_PER_SLIDE
        found[-1] = (found[-1][0], found[-1][1] + minutes)
    return found


#: the lecturer's hint of a slide, by what it shows (first match wins): an exercise, a live
#: view, code, or prose alone
HINTS: tuple[tuple[str, str], ...] = (
    (
        "exercise",
        "Give the class a few minutes to try the exercise before anyone opens the solution.",
    ),
    ("view", "Move the view's controls live and ask the class what will change before each move."),
    ("code", "Run the code live and ask for a prediction before showing each output."),
    ("prose", "Ask the class one question about this slide before moving on."),
)


def slide_hint(cells: list[dict]) -> str:
    """The lecturer's hint for a slide made of ``cells``: the first of ``HINTS`` that fits.

    ``exercise``: a markdown heading that names an exercise, or a call of a ``check_``
    function; ``view``: a code cell that builds one of the course's views (``LESSONS``);
    ``code``: any code cell; ``prose``: the rest.
    """
    import re

    views = {view for item in LESSONS for view in item.views}
    sources = ["".join(c.get("source", "")) for c in cells]
    code = [s for c, s in zip(cells, sources, strict=True) if c["cell_type"] == "code"]
    text = [s for c, s in zip(cells, sources, strict=True) if c["cell_type"] == "markdown"]
    hints = dict(HINTS)
    if any(re.search(r"^#+ .*Exercise", s, re.M) for s in text) or any(
        re.search(r"\bcheck_\w+\(", s) for s in code
    ):
        return hints["exercise"]
    if any(re.search(rf"\b(?:{'|'.join(sorted(views))})\(", s) for s in code):
        return hints["view"]
    return hints["code"] if code else hints["prose"]


def notes_text(minutes: float, done: float, hint: str) -> str:
    """The speaker note of one slide, one italic line addressed to the lecturer: the minutes of
    the slide and its sub-slides, the minutes of the lecture so far after it, and ``hint``."""
    return f"*Lecturer: about {max(1, round(minutes))} min here ({round(done)} min so far). {hint}*"


def write_notes(path) -> bool:
    """Give every slide of the core path of the notebook at ``path`` a speaker-notes cell (RISE
    slide type ``notes``, tag ``NOTES_TAG``) right after its first cell, with the minutes of
    ``section_minutes``; returns whether the file changed. Notes cells of earlier runs are
    replaced, so running it again after an edit keeps the minutes current."""
    import hashlib
    import json
    from pathlib import Path

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    nb["cells"] = [c for c in nb["cells"] if NOTES_TAG not in c.get("metadata", {}).get("tags", [])]
    sections = section_minutes(nb)
    marks = going_further(nb)
    ends = [i for i, _ in sections[1:]] + [len(nb["cells"])]
    for (index, minutes), end in reversed(list(zip(sections, ends, strict=True))):
        done = sum(m for i, m in sections if i <= index)
        shown = [
            cell
            for cell, further in zip(nb["cells"][index:end], marks[index:end], strict=True)
            if not further and slide_type(cell) != "skip"
        ]
        source = notes_text(minutes, done, slide_hint(shown))
        cell_id = hashlib.sha1(f"{path.name}:{index}:notes".encode()).hexdigest()[:8]
        nb["cells"].insert(
            index + 1,
            {
                "cell_type": "markdown",
                "id": cell_id,
                "metadata": {"slideshow": {"slide_type": "notes"}, "tags": [NOTES_TAG]},
                "source": [source],
            },
        )
    return save_notebook(path, nb, text)


def _notebook(file: str) -> dict:
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "notebooks"
    return json.loads((root / file).read_text(encoding="utf-8"))


def course_stats() -> list[PathStats]:
    """``path_stats`` of the index (number 0) and of every notebook in ``LESSONS``."""
    rows = [path_stats(_notebook(INDEX_FILE), 0)]
    rows += [path_stats(_notebook(item.file), item.number) for item in LESSONS]
    return rows


def path_table(stats: list[PathStats] | None = None) -> str:
    """The Markdown table of the core path: per notebook its core-path and optional words,
    code cells on slides, slides and estimated minutes, then the two-week path's total."""
    stats = course_stats() if stats is None else stats
    rows = [
        "| # | Core-path words | Going further and solutions (words) | Code cells on slides "
        "| Slides | Estimated minutes |",
        "|---|---|---|---|---|---|",
    ]
    for s in stats:
        rows.append(
            f"| {s.number:02d} | {s.core_words:,} | {s.optional_words:,} | {s.code_on_slides} "
            f"| {s.slides} | {s.minutes} |"
        )
    path = [s for s in stats if s.number in TWO_WEEK_PATH]
    total = sum(s.minutes for s in path)
    names = ", ".join(f"{n:02d}" for n in TWO_WEEK_PATH)
    rows.append(
        f"| Two-week path ({names}) | {sum(s.core_words for s in path):,} | "
        f"{sum(s.optional_words for s in path):,} | {sum(s.code_on_slides for s in path)} | "
        f"{sum(s.slides for s in path)} | {total} ({total / 60:.1f} h) |"
    )
    return "\n".join(rows)


def write_table(readme) -> bool:
    """Replace the text between ``TABLE_BEGIN`` and ``TABLE_END`` in the file ``readme`` by
    ``path_table()``; returns whether the file changed."""
    from pathlib import Path

    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    head, found, rest = text.partition(TABLE_BEGIN)
    _, found_end, tail = rest.partition(TABLE_END)
    if not found or not found_end:
        raise ValueError(f"readme must contain the markers {TABLE_BEGIN!r} and {TABLE_END!r}")
    new = f"{head}{TABLE_BEGIN}\n{path_table()}\n{TABLE_END}{tail}"
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    import sys
    from pathlib import Path

    if sys.argv[1:2] == ["notes"]:
        root = Path(__file__).resolve().parents[1] / "notebooks"
        for number in TWO_WEEK_PATH:
            if write_notes(root / lesson(number).file):
                print("notes updated in", lesson(number).file)
        raise SystemExit(0)
    if sys.argv[1:2] == ["table"]:
        if "--write" in sys.argv:
            readme = Path(__file__).resolve().parents[1] / "README.md"
            print("updated README.md" if write_table(readme) else "README.md is current")
        else:
            print(path_table())
        raise SystemExit(0)

    root = Path(__file__).resolve().parents[1] / "notebooks"
    for item in LESSONS:
        if write_nav(root / item.file):
            print("updated", item.file)
