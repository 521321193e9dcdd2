"""Shared test configuration: a headless matplotlib backend and hypothesis profiles."""

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
