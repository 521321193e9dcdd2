"""The base class of every interactive view.

A view owns
- ``controls``: a dict of name -> ipywidgets control (sliders, dropdowns, Play buttons);
- ``state``: a dict that says what the view shows now (positions, the numbers multiplied,
  the output value); tests drive ``controls[...]`` and assert on ``state`` with no browser;
- ``figure``: one matplotlib Figure on an Agg canvas, built once; a control change updates its
  artists (``set_data``, ``set_xy``) and the view re-renders it into an ``ipywidgets.Image``.

Rendering to an Image widget (rather than an ipympl canvas) works in every front end that
runs ipywidgets, needs no extension, and lets the saved notebook carry a static PNG of the
figure for readers on the repository page.

Subclasses implement ``_build()`` (create controls and artists, once) and ``_update()``
(read the controls, fill ``self.state``, move the artists). An exception in ``_update`` is
shown in the view as a message and stored in ``state["error"]``; it never escapes a callback.
"""

from __future__ import annotations

import base64
import html
from typing import Any

import ipywidgets as widgets

from cnnlib.plotting import figure_png, new_figure, view_scale


class View:
    """An interactive figure driven by ipywidgets controls (see the module docstring)."""

    #: default figure size in inches (width, height); subclasses override
    figsize: tuple[float, float] = (9.0, 4.0)
    #: controls listed here go on the first row, the rest on a second row
    layout_rows: tuple[tuple[str, ...], ...] = ()

    def __init__(self) -> None:
        self.controls: dict[str, widgets.Widget] = {}
        self.state: dict[str, Any] = {}
        self.figure = new_figure(*self.figsize)
        #: the style's scale when the view was built (``use_style``): its controls follow it
        self.scale = view_scale()
        # shown at its own size (pixel for pixel; the lecture style draws it larger), never
        # wider than the page: a flex column would otherwise stretch it to the full width
        layout = widgets.Layout(max_width="100%", align_self="flex-start")
        self.image = widgets.Image(format="png", layout=layout)
        self.image.add_class("cnnlib-figure")
        self.message = widgets.HTML(value="")
        self.message.add_class("cnnlib-message")
        self.readout = widgets.HTML(value="")
        self.readout.add_class("cnnlib-readout")
        self._widget: widgets.Widget | None = None
        self._updating = False
        #: set by ``_update`` when the axes' extents changed and the layout must be redone
        self.relayout = True
        self._build()
        for name, control in self.controls.items():
            control.add_class(f"cnnlib-control-{name}")
            if hasattr(control, "value"):
                control.observe(self._on_change, names="value")
        self.refresh()

    # -- to implement -------------------------------------------------------------------
    def scaled_width(self, px: float) -> widgets.Layout:
        """A control's layout ``px`` wide in the default style and ``scale`` times that in the
        lecture style, where its text is that much larger (a dropdown's longest option)."""
        return widgets.Layout(width=f"{round(px * self.scale)}px")

    def _build(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- machinery ----------------------------------------------------------------------
    def _on_change(self, change: dict) -> None:
        if not self._updating:
            self.refresh()

    def refresh(self) -> None:
        """Recompute ``state`` from the controls and redraw the figure."""
        self._updating = True
        try:
            self._update()
        except Exception as exc:  # shown to the learner, never swallowed silently
            self.state["error"] = f"{type(exc).__name__}: {exc}"
            self.message.value = (
                '<div style="color:#b00020;font-weight:bold">'
                f"{html.escape(self.state['error'])}</div>"
            )
        else:
            self.state.pop("error", None)
            self.message.value = ""
        finally:
            self._updating = False
        self._render()

    def _render(self) -> None:
        # The constrained layout is solved on the first draw (and on request), then frozen:
        # re-solving it on every slider move costs more than the drawing itself.
        self.figure.set_layout_engine("constrained" if self.relayout else "none")
        self.image.value = figure_png(self.figure)
        self.relayout = False

    def set_controls(self, **values: Any) -> None:
        """Set several controls at once with a single redraw (e.g. presets)."""
        self._updating = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._updating = False
        self.refresh()

    @property
    def widget(self) -> widgets.Widget:
        """The view as one ipywidgets box: controls, message, readout, figure."""
        if self._widget is None:
            for control in self.controls.values():
                if isinstance(control, widgets.ToggleButtons):
                    # ipywidgets lays its label above the buttons (display: block): one row
                    control.layout.display = "flex"
                    control.layout.align_items = "center"
            rows = []
            placed: set[str] = set()
            for names in self.layout_rows:
                # centred, not stretched: a Play button keeps its own height beside a toggle
                layout = widgets.Layout(align_items="center")
                rows.append(widgets.HBox([self.controls[n] for n in names], layout=layout))
                placed.update(names)
            rest = [c for n, c in self.controls.items() if n not in placed]
            if rest:
                layout = widgets.Layout(flex_flow="row wrap", align_items="center")
                rows.append(widgets.HBox(rest, layout=layout))
            parts = [*rows, self.message, self.readout, self.image]
            if self.scale != 1.0:
                parts.insert(0, widgets.HTML(_scaled_css(self.scale)))
            self._widget = widgets.VBox(parts)
            if self.scale != 1.0:
                self._widget.add_class("cnnlib-lecture")
            self._widget.add_class("cnnlib-view")
            self._widget.add_class(f"cnnlib-{type(self).__name__}")
        return self._widget

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # A static picture for renderers without a live kernel (the repository page).
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        bundle["text/plain"] = f"<{type(self).__name__} view>"
        return bundle


def check_slider_limits(values: dict[str, int], limits: dict[str, int]) -> None:
    """Refuse a constructor value past its slider's end, never replace it silently:
    ``ValueError("size must be at most 10 in this view, got 32")``."""
    for name, top in limits.items():
        if values[name] > top:
            raise ValueError(f"{name} must be at most {top} in this view, got {values[name]}")


def _scaled_css(scale: float) -> str:
    """A style sheet that draws a view's controls, labels and readouts ``scale`` times their
    JupyterLab size (13 px type, 28 px controls), scoped to views marked ``cnnlib-lecture``."""
    font, height, handle, label = (round(v * scale) for v in (13, 28, 16, 80))
    return (
        "<style>.cnnlib-lecture{"
        f"--jp-widgets-font-size:{font}px;--jp-widgets-inline-height:{height}px;"
        f"--jp-widgets-inline-label-width:{label}px;--jp-widgets-slider-handle-size:{handle}px;"
        f"--jp-ui-font-size1:{font}px;font-size:{font}px}}"
        ".cnnlib-lecture .widget-label,.cnnlib-lecture .widget-readout,"
        ".cnnlib-lecture .jupyter-button,.cnnlib-lecture select,.cnnlib-lecture .widget-html,"
        f".cnnlib-lecture .cnnlib-readout{{font-size:{font}px}}"
        ".cnnlib-lecture .jupyter-button{height:auto;min-height:var(--jp-widgets-inline-height)}"
        "</style>"
    )
