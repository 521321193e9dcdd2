"""Speed measurements, printed as tables by ``make bench`` (``python -m benchmarks``).

Each ``bench_*.py`` module has a ``main()`` that prints its tables. Timings are medians of
repeated runs in this process; they are for comparing ratios on one machine, not for tests.
"""
