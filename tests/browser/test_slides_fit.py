"""Every notebook's slideshow fits a projector: every slide and fragment, measured.

For each notebook (the index and every lesson of ``cnnlib.course.LESSONS``): Run All and
save in JupyterLab (the slides show the live kernel's views; without a kernel the slideshow
shows only the views' static pictures, smaller than the live views with their controls),
open its slides (jupyterlab-rise's ``/rise/<path>``, what Alt+R shows), then walk every
slide state with Page Down, as a presenter's clicker does, at 1920 x 1080 and at 1280 x 720.
A state overflows when something shown on it reaches below the slide's visible height (the
course's RISE settings make tall slides scroll; fragments not shown yet keep their room in the
layout, unseen, and do not count, nor does a folded solution), or when something visible on it
reaches past the window's right edge, or a code cell or an output scrolls sideways.

Asserted: no overflow at 1920 x 1080. Reported: the count at 1280 x 720 (a smaller projector
shows less; the lecturer can zoom out). Also asserted: slide prose and code are as large as
the lecture style's figure text (``LECTURE_RC``: its font size at its dpi, in CSS pixels).
Slow (a Run All and two walks per notebook): marked ``thorough``.
"""

from __future__ import annotations

import os
import time

import pytest

from cnnlib import course
from cnnlib.plotting import LECTURE_RC

from .helpers import _lab, error_outputs, open_notebook, run_all, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.thorough]

NOTEBOOKS = ["00_index.ipynb", *(item.file for item in course.LESSONS)]
PROJECTOR = (1920, 1080)
SMALL = (1280, 720)
#: screenshot every overflowing state, not only the first (for whoever fixes them)
EVERY_SHOT = os.environ.get("SLIDES_EVERY_SHOT") == "1"
#: the lecture style's figure text in CSS pixels (points at the figure's dpi)
FIGURE_TEXT_PX = LECTURE_RC["font.size"] * LECTURE_RC["figure.dpi"] / 72

#: the present slide state: where it is, and what overflows
MEASURE = """() => {
  const top = document.querySelector('.reveal .slides > section.present');
  if (!top) return null;
  const slide = top.querySelector('section.present') || top;
  const tops = Array.from(document.querySelectorAll('.reveal .slides > section'));
  const visible = slide.querySelectorAll('.fragment.visible').length;
  const W = window.innerWidth;
  let right = 0, culprit = '';
  for (const e of slide.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const cs = getComputedStyle(e);
    if (cs.visibility === 'hidden' || cs.display === 'none') continue;
    if (r.right > right) {
      right = r.right;
      culprit = e.tagName + '.' + e.classList[0] + ' ' + Math.round(r.left) + '..' +
                Math.round(r.right);
    }
  }
  const sideways = Array.from(slide.querySelectorAll('.cm-scroller, .jp-OutputArea-output, pre'))
    .filter(e => e.scrollWidth > e.clientWidth + 1 &&
                 ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)).length;
  // how far the lowest thing shown reaches below the slide's visible height: fragments not
  // shown yet take their room in the layout but are not seen, so they do not count
  const box = slide.getBoundingClientRect();
  const limit = Math.min(box.top + slide.clientHeight, window.innerHeight);
  let bottom = box.top, lowest = '';
  for (const e of slide.querySelectorAll('*')) {
    if (e.closest('.fragment:not(.visible)')) continue;
    const folded = e.closest('details');  // a folded solution shows its summary line only
    if (folded && !folded.open && !e.closest('summary')) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const cs = getComputedStyle(e);
    if (cs.visibility === 'hidden' || cs.display === 'none') continue;
    if (r.bottom + slide.scrollTop > bottom) {
      bottom = r.bottom + slide.scrollTop;
      lowest = e.tagName + '.' + e.classList[0];
    }
  }
  const below = Math.round(bottom - limit);
  const tall = below > 1;
  const text = (slide.innerText || '').trim().split('\\n')[0].slice(0, 60);
  return {
    key: tops.indexOf(top) + '.' + Array.from(top.querySelectorAll('section')).indexOf(slide) +
         '.' + visible,
    tall, below, lowest, wide: right > W + 1, sideways, text, culprit,
  };
}"""

#: computed font sizes on the slides, times the scale reveal.js draws them at
SIZES = """() => {
  const slides = document.querySelector('.reveal .slides');
  const scale = slides.getBoundingClientRect().width / slides.offsetWidth;
  const px = (sel) => {
    const e = document.querySelector(sel);
    return e ? parseFloat(getComputedStyle(e).fontSize) * scale : null;
  };
  return {
    prose: px('.reveal .jp-RenderedMarkdown p'),
    code: px('.reveal .jp-InputArea-editor .cm-content'),
  };
}"""


def _open_slides(page, notebook: str):
    """Run All and save ``notebook`` in JupyterLab, then open its slides in a new page."""
    open_notebook(page, notebook)
    run_all(page)
    assert not error_outputs(page), error_outputs(page)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(1000)
    rise = page.context.new_page()
    rise.set_viewport_size({"width": PROJECTOR[0], "height": PROJECTOR[1]})
    rise.goto(_lab().lab_url(f"/rise/{notebook}"))
    rise.locator(".reveal .slides > section").first.wait_for(state="attached", timeout=90_000)
    # measure each state as it ends, not halfway through reveal.js's slide-in
    rise.add_style_tag(
        content=".reveal .slides section, .reveal .slides section * "
        "{ transition: none !important; }"
    )
    # the live views attach as the widget manager loads: wait until their count settles
    count, stable = -1, 0
    for _ in range(60):
        now = rise.locator(".reveal .cnnlib-view").count()
        stable = stable + 1 if now == count else 0
        count = now
        if stable >= 4:
            break
        rise.wait_for_timeout(500)
    return rise


def walk(rise, size: tuple[int, int], shot: str = "") -> list[dict]:
    """Every slide state from the first, at ``size``: Page Down until nothing changes.
    ``shot``: the name of a screenshot of the first state that overflows (of every one, named
    by its key, when the environment sets ``SLIDES_EVERY_SHOT=1``)."""
    rise.set_viewport_size({"width": size[0], "height": size[1]})
    rise.wait_for_timeout(800)  # reveal.js lays the slides out again
    rise.locator(".reveal").first.click(position={"x": 3, "y": 3})
    rise.keyboard.press("Home")  # reveal.js: the first slide
    rise.wait_for_timeout(800)
    states, seen = [], set()
    for _ in range(400):
        state = rise.evaluate(MEASURE)
        if state is None or state["key"] in seen:
            break
        seen.add(state["key"])
        states.append(state)
        if shot and _overflowing([state]):
            if EVERY_SHOT:
                screenshot(rise, f"{shot}_{state['key']}")
            elif len(_overflowing(states)) == 1:
                screenshot(rise, f"{shot}_first_overflow")
        rise.keyboard.press("PageDown")
        rise.wait_for_timeout(250)  # reveal.js lays the next state out
    return states


def _overflowing(states: list[dict]) -> list[dict]:
    return [s for s in states if s["tall"] or s["wide"] or s["sideways"]]


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_slide_fits_1920x1080(page, notebook):
    start = time.monotonic()
    rise = _open_slides(page, notebook)
    rise.locator(".reveal").first.click(position={"x": 3, "y": 3})
    sizes = rise.evaluate(SIZES)
    big = walk(rise, PROJECTOR, f"slides_fit_{notebook.removesuffix('.ipynb')}")
    small = walk(rise, SMALL)
    over_big, over_small = _overflowing(big), _overflowing(small)
    print(
        f"\n{notebook}: {len(over_big)} of {len(big)} slide states overflow at 1920 x 1080, "
        f"{len(over_small)} of {len(small)} at 1280 x 720; prose {sizes['prose']} px, code "
        f"{sizes['code']} px; {time.monotonic() - start:.0f} s"
    )
    for s in over_big:
        print(
            f"  1920 x 1080 {s['key']}: tall={s['tall']} ({s['below']} px below, {s['lowest']}) "
            f"wide={s['wide']} "
            f"sideways={s['sideways']} {s['text']!r} {s['culprit']}"
        )
    assert sizes["prose"] is None or sizes["prose"] >= FIGURE_TEXT_PX - 0.5, sizes
    assert sizes["code"] is None or sizes["code"] >= FIGURE_TEXT_PX - 0.5, sizes
    assert big, "no slide found"
    assert not over_big, f"{len(over_big)} slide states overflow at 1920 x 1080"
