"""The instructor's pack: plan, outcomes, formula sheet, quiz and a graded assignment.

The Markdown files here are read on the repository page; the numbers in ``formula_sheet.md``
and ``quiz.md`` are computed by ``cnnlib`` (``python -m teaching.formulas`` and
``python -m teaching.quiz`` write them) and ``tests/test_teaching.py`` recomputes each one.
"""
