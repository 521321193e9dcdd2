"""The course index runs in JupyterLab, and notebook 01 is presented as slides with jupyterlab-rise.

Slide mode is the page jupyterlab-rise serves at ``/rise/<path>`` (what the notebook toolbar's
"Render as Reveal Slideshow" button shows in a side panel). It attaches to the kernel session of
the notebook's path (checked below: the same kernel id) and shows the outputs saved in the
file; it runs nothing by itself (Shift+Enter runs the selected cell on a slide). So the test
runs all and saves in JupyterLab first, then opens the slides.

With the pinned jupyterlab-rise 0.43.1 and ipywidgets 8 the slideshow app alone cannot load the
widget manager ("Shared module @jupyterlab/console doesn't exist in shared scope default"), so a
view's slide shows its static PNG and no controls, and an arrow key on a slider also turns the
slide. The repository's small extension jupyter/labextensions/cnn-course-slides fixes both; it
must be on JUPYTER_PATH of the server. Without it this test is a strict xfail, for that reason
only (``SlideWidgetUnavailable``): every other step must still pass.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
from jupyter_core.paths import jupyter_path

from cnnlib import course

from .helpers import (
    NOTEBOOKS,
    REPO,
    _lab,
    cells_for_views,
    error_outputs,
    figure_png,
    move_slider,
    open_notebook,
    run_all,
    run_cells,
    screenshot,
    slider_value,
    view_locator,
    wait_for_change,
    wait_for_idle,
    wait_until,
)

pytestmark = pytest.mark.browser

#: jupyterlab-rise 0.43.1 + ipywidgets 8: the slideshow app cannot load the widget manager
RISE_WIDGETS_BUG = "https://github.com/jupyterlab-contrib/rise/issues/119"
#: the repository's fix: jupyter/labextensions/cnn-course-slides, found on JUPYTER_PATH
SLIDES_EXTENSION = "cnn-course-slides"
SLIDES_EXTENSION_FOUND = any(
    (Path(p) / SLIDES_EXTENSION / "package.json").exists() for p in jupyter_path("labextensions")
)


class SlideWidgetUnavailable(AssertionError):
    """The slide shows the view's static picture: no widget manager in the slideshow app."""


def test_index_runs_all_without_errors(page):
    open_notebook(page, "00_index.ipynb")
    seconds = run_all(page)
    print(f"00_index: Run All took {seconds:.1f} s")
    errors = error_outputs(page)
    assert not errors, "cells or views showed errors:\n" + "\n".join(errors)
    # every notebook of the course is linked from the rendered table of contents
    hrefs = page.locator(".jp-MarkdownOutput a").evaluate_all("as => as.map(a => a.href)")
    for item in course.LESSONS:
        assert any(h.split("?")[0].endswith(item.file) for h in hrefs), item.file
    # the view on the index answers the keyboard
    view = view_locator(page, "SlidingKernel")
    before = figure_png(view)
    move_slider(view, "col", 1)
    wait_for_change(lambda: slider_value(view, "col"), "3", what="the col slider to move")
    wait_for_idle(page)
    assert figure_png(view) != before
    screenshot(page, "00_index_after_run_all")


def _present_slide(rise):
    return rise.locator(".reveal .slides > section.present").first


@pytest.mark.xfail(
    not SLIDES_EXTENSION_FOUND,
    raises=SlideWidgetUnavailable,
    strict=True,
    reason=f"jupyterlab-rise 0.43.1 cannot load ipywidgets 8's manager ({RISE_WIDGETS_BUG}) "
    f"and the {SLIDES_EXTENSION} extension is not on JUPYTER_PATH",
)
def test_rise_slide_with_a_working_view(page):
    start = time.monotonic()
    _slides_show_a_live_view(page, "rise_01", whole=False)
    print(f"RISE test took {time.monotonic() - start:.1f} s")


def test_slides_from_a_pip_install_of_the_wheel(wheel_page):
    """What a student gets from `pip install .` and `jupyter lab`, without make: cnnlib, the
    slides extension and the lab settings all come from the wheel (tests/fresh_install.py).
    Notebook 01 is run whole here: a lesson from the wheel's cnnlib, every cell in JupyterLab
    (the only full Run All of a lesson in the browser; the smoke tests run a view's cells)."""
    lab = _lab()
    rise = _lab_settings(lab, "jupyterlab-rise:plugin")
    assert rise["theme"] == "white" and rise["scroll"] is True, (
        f"the course's slide settings (overrides.d in the wheel) are not in effect: {rise}"
    )
    notification = _lab_settings(lab, "@jupyterlab/apputils-extension:notification")
    assert notification["fetchNews"] == "false" and notification["checkForUpdates"] is False
    _slides_show_a_live_view(wheel_page, "wheel_rise_01", whole=True)
    # the kernel behind those slides imports cnnlib from the wheel's environment
    where = wheel_page.evaluate(KERNEL_PRINT, "import cnnlib; print(cnnlib.__file__)")
    assert Path(where.strip()).is_relative_to(lab.root.parents[1]), where
    assert not Path(where.strip()).is_relative_to(REPO), where


#: run ``code`` in the kernel of the open notebook and return what it prints
KERNEL_PRINT = """async (code) => {
  const panel = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.sessionContext);
  const future = panel.sessionContext.session.kernel.requestExecute({code});
  let out = '';
  future.onIOPub = (m) => { if (m.header.msg_type === 'stream') out += m.content.text; };
  await future.done;
  return out;
}"""


def _lab_settings(lab, plugin: str) -> dict:
    """The settings JupyterLab gives ``plugin``: its schema's defaults, which overrides.d
    replaces, under the user's own settings."""
    with urllib.request.urlopen(lab.lab_url(f"/lab/api/settings/{plugin}"), timeout=30) as r:
        answer = json.loads(r.read())
    defaults = {k: v.get("default") for k, v in answer["schema"]["properties"].items()}
    return {**defaults, **answer["settings"]}


def _slides_show_a_live_view(page, shot_prefix: str, whole: bool) -> None:
    """Run 01 (every cell if ``whole``, else the cells that build its views) and save, open its
    slides with Alt+R, walk to the SlidingKernel slide and move its slider with the keyboard:
    the view is live and the slide does not turn."""
    notebook = "01_convolution.ipynb"
    open_notebook(page, notebook)
    if whole:
        run_all(page)
    else:
        run_cells(page, cells_for_views(NOTEBOOKS / notebook, course.lesson(1).views))
    assert not error_outputs(page), error_outputs(page)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    kernel_id = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id"
    )
    # the lecturer's way in: the toolbar button, or Alt+R, opens the slides beside the notebook
    button = page.locator(".jp-NotebookPanel-toolbar [data-command='RISE:preview']").first
    assert button.is_visible(), "no RISE button in the notebook toolbar"
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("Alt+r")
    for _ in range(120):
        if any(f"/rise/{notebook}" in f.url for f in page.frames):
            break
        page.wait_for_timeout(250)
    assert any(f"/rise/{notebook}" in f.url for f in page.frames), "Alt+R opened no slides panel"

    rise = page.context.new_page()
    messages: list[str] = []
    rise.on("console", lambda m: messages.append(m.text))
    rise.goto(_lab().lab_url(f"/rise/{notebook}"))
    rise.locator(".reveal .slides > section").first.wait_for(state="attached", timeout=90_000)
    # (console events arrive only while playwright runs: poll with the page's own timer)
    for _ in range(300):
        if any("/api/kernels/" in m for m in messages):
            break
        rise.wait_for_timeout(200)
    kernels = [m.split("/api/kernels/")[1][:36] for m in messages if "/api/kernels/" in m]
    assert kernels == [kernel_id], f"slides use kernel(s) {kernels}, the notebook {kernel_id}"

    # Walk the slides with the keyboard, as a presenter does, to the one holding the view.
    def on_view_slide() -> bool:
        return "SlidingKernel()" in _present_slide(rise).inner_text()

    rise.locator(".reveal").first.click(position={"x": 5, "y": 5})
    for _ in range(len(rise.locator(".reveal .slides > section").all())):
        if on_view_slide():
            break
        rise.keyboard.press("ArrowRight")
        rise.wait_for_timeout(400)
    assert on_view_slide(), "no slide shows the SlidingKernel cell"
    slide = _present_slide(rise)
    rise.wait_for_timeout(1500)  # let reveal.js finish its transition and layout
    shot = screenshot(rise, f"{shot_prefix}_sliding_kernel_slide")

    view = slide.locator(".cnnlib-view.cnnlib-SlidingKernel")
    try:
        view.wait_for(state="attached", timeout=20_000)
    except Exception as exc:  # playwright's TimeoutError
        static = slide.locator(".jp-OutputArea-output img").count()
        manager_failed = any("jupyterlab-manager" in m for m in messages)
        raise SlideWidgetUnavailable(
            f"the slide shows {static} static picture(s) but no live view; widget manager "
            f"failed to load: {manager_failed} ({RISE_WIDGETS_BUG}); screenshot: {shot}"
        ) from exc

    # The slide holds a live view: the keyboard moves it and the picture changes.
    box = view.bounding_box()
    viewport = rise.viewport_size
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1, (
        f"the view overflows the slide: {box}"
    )
    col = slider_value(view, "col")
    before = figure_png(view)
    move_slider(view, "col", 1)  # ArrowRight on the focused handle: the slider, not the slide
    wait_for_change(lambda: slider_value(view, "col"), col, what="the col slider to move")
    assert slider_value(view, "col") == str(int(col) + 1)
    wait_until(lambda: figure_png(view) != before, what="the figure to change")
    assert on_view_slide(), "the arrow key on the slider also turned the slide"
    screenshot(rise, f"{shot_prefix}_sliding_kernel_moved")
