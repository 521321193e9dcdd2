"""A live training display: a progress bar and a loss / accuracy plot that grow while a
network trains (the idea of d2l's ``ProgressBoard``).

``board = ProgressBoard(epochs)``; show it (``display(board)`` or as a cell's last value), then
pass it to ``cnnlib.training.train(..., board=board)``, which calls ``board.update(epoch,
metrics)`` after every epoch. The figure is built once; an update moves the lines' data
(``set_data``) and re-renders the same figure into the view's image, so the picture changes in
place. Without a notebook frontend (a script, a test) the widgets exist but nothing is shown,
and updating costs one small PNG render per epoch.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import matplotlib.ticker as mticker
from matplotlib.figure import Figure

from cnnlib._validate import check_int

__all__ = ["ProgressBoard"]

# colour-blind-safe (Okabe-Ito): loss on the left axis, accuracies on the right
_STYLE = {
    "loss": ("#0072B2", "-", "training loss"),
    "train_accuracy": ("#E69F00", "--", "training accuracy"),
    "test_accuracy": ("#009E73", "-", "test accuracy"),
}


class ProgressBoard:
    """A progress bar over ``epochs`` and a plot of ``loss`` (left axis) and the accuracies
    (right axis, 0..1) per epoch.

    ``history`` holds every number received, one list per metric; ``widget`` is the
    ``ipywidgets.VBox`` shown in a notebook (bar, a one-line summary, the plot).
    """

    def __init__(self, epochs: int, title: str = "Training") -> None:
        self.epochs = check_int("epochs", epochs, 1)
        self.history: dict[str, list[float]] = {name: [] for name in _STYLE}
        self.epochs_done: list[int] = []
        self.bar = widgets.IntProgress(value=0, min=0, max=self.epochs, description=title)
        self.label = widgets.Label(value=f"epoch 0 of {self.epochs}")
        # at its own size: a flex column (a notebook's output, a slide) would stretch it
        layout = widgets.Layout(max_width="100%", align_self="flex-start")
        self.image = widgets.Image(format="png", layout=layout)
        self.widget = widgets.VBox([widgets.HBox([self.bar, self.label]), self.image])

        self.figure = Figure(figsize=(5.5, 2.8), dpi=80, layout="constrained")
        self.ax_loss = self.figure.add_subplot()
        self.ax_acc = self.ax_loss.twinx()
        self.lines = {}
        for name, (color, style, label) in _STYLE.items():
            ax = self.ax_loss if name == "loss" else self.ax_acc
            (self.lines[name],) = ax.plot([], [], style, color=color, marker="o", ms=3, label=label)
        self.ax_loss.set(xlim=(0.5, self.epochs + 0.5), xlabel="epoch", ylabel="loss")
        self.ax_loss.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
        self.ax_acc.set(ylim=(0, 1.02), ylabel="accuracy")
        handles = [self.lines[n] for n in _STYLE]
        self.ax_loss.legend(handles, [h.get_label() for h in handles], loc="center right")
        self._render()

    def update(self, epoch: int, metrics: dict[str, float]) -> None:
        """Record ``metrics`` (any of ``loss``, ``train_accuracy``, ``test_accuracy``) for
        ``epoch`` (1-based), move the bar and redraw the plot in place."""
        epoch = check_int("epoch", epoch, 1)
        unknown = set(metrics) - set(_STYLE)
        if unknown:
            raise ValueError(f"metrics has unknown names {sorted(unknown)}; known: {list(_STYLE)}")
        self.epochs_done.append(epoch)
        for name in _STYLE:
            self.history[name].append(float(metrics.get(name, float("nan"))))
        for name, line in self.lines.items():
            line.set_data(self.epochs_done, self.history[name])
        losses = [v for v in self.history["loss"] if v == v]
        if losses:
            self.ax_loss.set_ylim(0, max(losses) * 1.1 or 1.0)
        self.bar.value = min(epoch, self.epochs)
        parts = [f"epoch {epoch} of {self.epochs}"]
        parts += [
            f"{_STYLE[n][2]} {metrics[n]:.3f}" for n in ("loss", "test_accuracy") if n in metrics
        ]
        self.label.value = ", ".join(parts)
        self._render()

    def _render(self) -> None:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        self.image.value = buffer.getvalue()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
