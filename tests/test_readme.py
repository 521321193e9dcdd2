"""The README's quick start and notebook table match the repository."""

import re
from pathlib import Path

from cnnlib.course import LESSONS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BINDER = re.compile(
    r"https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/HEAD\?urlpath=lab/tree/notebooks/([\w.-]+\.ipynb)"
)


def test_every_notebook_has_a_row_with_a_binder_link():
    linked = {m.group(2) for m in BINDER.finditer(README)}
    on_disk = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert linked == on_disk
    for lesson in LESSONS:
        assert f"](notebooks/{lesson.file})" in README, lesson.file


def test_binder_links_point_at_one_repository():
    assert len({m.group(1) for m in BINDER.finditer(README)}) == 1


def test_quick_start_commands_exist_and_ci_runs_the_test_command():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab", "test", "notebooks", "bench"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile has no {target} target"
    assert "make test" in (ROOT / ".ci" / "run").read_text()
