"""Shared test configuration: a headless matplotlib backend, hypothesis profiles, and one
thread per process when pytest runs several workers."""

import os

import matplotlib

matplotlib.use("Agg")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402

# No explain phase: on Python 3.11 it traces every line (sys.settrace) of every example after
# a failure; a failing conv2d property kept a test worker busy for over 20 minutes before it
# could report. The failing example is still shrunk and printed.
PHASES = [p for p in Phase if p is not Phase.explain]
settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=PHASES,
)
settings.register_profile("thorough", max_examples=500, deadline=None, phases=PHASES)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: the thread pools of torch (OpenMP, MKL) and numpy (OpenBLAS)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def pytest_configure(config):
    """With several xdist workers (`make test`: two on two cores), each worker, and each kernel
    or JupyterLab server it starts, computes on one thread: a second thread per process only
    oversubscribes the cores, and torch's threads then wait on each other (an occlusion test
    took 10 s with two threads per worker beside another worker, 0.8 s with one). Set before
    the workers start, so they and their children inherit it; a variable already set is kept."""
    workers = getattr(config.option, "numprocesses", None)
    if workers not in (None, 0, 1) and "PYTEST_XDIST_WORKER" not in os.environ:
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, "1")
