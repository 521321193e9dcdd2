"""Bad values for every argument of every public function and view constructor.

The catalogue (``tests/fuzz/catalogue.py``) lists one valid call and a strategy per argument;
``run_spec`` draws an argument and a bad value for it and judges the call
(``tests/fuzz/harness.py``). Each spec runs in a child process with a limited address space
(``tests/fuzz/child.py``), so an allocation past the memory budget fails the test instead of
killing the runner.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .catalogue import SKIPPED, SPECS, Spec, public_callables, qualname
from .child import FuzzChild
from .harness import outcome
from .strategies import Case, Edge

#: one call may take this long (a hang or a runaway computation fails the test)
CASE_SECONDS = 5.0

#: specs that still fail, with the issue item that fixes them (remove when fixed)
KNOWN_FAILING: dict[str, str] = {}

#: single cases that still fail, left out of their spec's strategy (see catalogue.py) so that
#: the rest of the spec is fuzzed; each runs here and must still fail (a fix fails this test)
KNOWN_FAILING_CASES: dict[str, tuple[str, str, Case, str]] = {}

IDS = [f"{s.name}-{i}" for i, s in enumerate(SPECS)]

#: ``make test`` draws a quarter of each spec's examples (at least 15; the same derandomised
#: draws every run); ``make test-thorough`` (``HYPOTHESIS_PROFILE=thorough``) draws them all
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


def examples(spec: Spec) -> int:
    return (
        spec.max_examples if THOROUGH else min(spec.max_examples, max(15, spec.max_examples // 4))
    )


def run_spec(spec: Spec) -> None:
    """Hypothesis over (argument, bad value) for one spec; raises on the first failure."""
    fuzzed = sorted(spec.args)
    optional = {
        name for name, p in inspect.signature(spec.fn).parameters.items() if p.default is None
    }

    @settings(
        max_examples=examples(spec),
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a slow case would run again
    )
    @given(data=st.data(), arg=st.sampled_from(fuzzed))
    def run(data, arg):
        case = data.draw(spec.args[arg], label=arg)
        if case.value is None and arg in optional:
            case = Edge(None, "the default")
        device = torch.device(spec.device) if spec.device else contextlib.nullcontext()
        with time_limit(CASE_SECONDS, f"{spec.name}({arg}={case!r})"), device:
            outcome(
                spec.fn,
                spec.call,
                arg,
                case,
                spec.aliases.get(arg, ()),
                spec.reference,
                spec.project,
                spec.check,
            )

    run()


@contextlib.contextmanager
def time_limit(seconds: float, what: str):
    """Fail a call that runs longer than ``seconds`` (checked when Python code runs)."""

    def expire(signum, frame):
        raise AssertionError(f"{what} ran for more than {seconds:.0f} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def child():
    c = FuzzChild()
    yield c
    c.close()


def test_catalogue_covers_every_public_callable():
    specced = {qualname(s.fn) for s in SPECS}
    missing = sorted(set(public_callables()) - specced - set(SKIPPED))
    assert not missing, f"add a Spec or a SKIPPED reason in tests/fuzz/catalogue.py for {missing}"
    stale = sorted(set(SKIPPED) - set(public_callables()))
    assert not stale, f"SKIPPED names callables that no longer exist: {stale}"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_spec_covers_every_argument(spec):
    params = set(inspect.signature(spec.fn).parameters) - {"self", "args", "kwargs"}
    listed = set(spec.args) | set(spec.skip)
    assert listed == params, f"{spec.name}: fuzz {params - listed}; unknown {listed - params}"
    assert not set(spec.args) & set(spec.skip)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_spec_base_call_works(spec):
    with torch.device(spec.device) if spec.device else contextlib.nullcontext():
        result = spec.fn(**spec.call)  # the fuzz replaces one argument of a call that works
    if spec.check is not None:
        spec.check(result, spec.name)


@pytest.mark.parametrize("index", range(len(SPECS)), ids=IDS)
def test_bad_arguments_are_refused_by_name(child, index):
    if SPECS[index].name in KNOWN_FAILING:
        pytest.xfail(KNOWN_FAILING[SPECS[index].name])
    ok, report = child.run(index)
    assert ok, report


@pytest.mark.parametrize("name", sorted(KNOWN_FAILING_CASES))
def test_known_failing_cases_still_fail(name):
    spec_name, arg, case, reason = KNOWN_FAILING_CASES[name]
    spec = next(s for s in SPECS if s.name == spec_name)
    try:
        outcome(spec.fn, spec.call, arg, case, spec.aliases.get(arg, ()), None, spec.project)
    except AssertionError:
        pytest.xfail(reason)
    pytest.fail(f"{name} passes now: remove it from KNOWN_FAILING_CASES and from the catalogue")
