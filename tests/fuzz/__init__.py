"""The project's fuzz suite: bad values for every argument of every public callable.

- ``strategies.py``: hypothesis strategies per kind of argument (``ints``, ``sizes``,
  ``flags``, ``reals``, ``choices``, ``arrays``, ``bool_arrays``, ``int_tuples``,
  ``callables``, ``modules``, ``shape_tuples``, ``junk``), each drawing
  ``Bad``/``Same``/``Edge`` cases.
- ``harness.py``: ``outcome`` judges one call (a named ValueError/TypeError, nothing else;
  ``Same`` values give the canonical result); ``assert_named_error`` for your own tests.
- ``catalogue.py``: one ``Spec`` (valid call + strategy per argument) per public callable,
  or a ``SKIPPED`` reason; a test fails when a new public callable is in neither. A spec may
  ``check`` every result (models: within the memory budget) and run on a torch ``device``
  (``"meta"`` builds big models without allocating; the check still sees their size).
- ``test_fuzz_functions.py``: ``KNOWN_FAILING`` (whole specs, xfailed) and
  ``KNOWN_FAILING_CASES`` (single cases left out of a strategy, each run as an expected
  failure that fails the test once fixed).
- ``child.py``: runs specs in a child process with ``RLIMIT_AS``, so an allocation past the
  memory budget fails a test instead of killing the runner.

To fuzz something new: add a ``Spec`` to ``catalogue.SPECS``. For callables with their own
rules (exercise checkers), write ``tests/fuzz/test_fuzz_<topic>.py`` that draws from
``strategies`` and asserts with ``harness``; run anything that may allocate a lot through
``child.py`` or under ``resource.setrlimit``.
"""
