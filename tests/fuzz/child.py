"""Run fuzz cases in a child process whose address space is limited (``RLIMIT_AS``).

A case that tries to allocate past cnnlib's memory budget then fails with ``MemoryError``
(or torch's "can't allocate memory") inside the child, and is reported as a failure, instead
of taking the test runner's (or a laptop's) memory. One child serves a whole test module:
``FuzzChild.run(spec_index)`` sends a request and reads the child's verdict; a child that
dies is restarted, and the case that killed it is reported.

Protocol (one JSON line each way): ``{"spec": i}`` -> ``{"ok": bool, "report": str}``.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

#: address space the child may use on top of what its imports take (cnnlib's budget is 1 GiB)
HEADROOM = 2 * 2**30
TESTS_DIR = Path(__file__).resolve().parent.parent


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def serve() -> None:
    """The child: import everything, limit the address space, answer requests."""
    import resource
    import traceback

    import torch

    torch.set_num_threads(1)
    from fuzz import catalogue, test_fuzz_functions  # noqa: F401 - import before limiting

    # torch imports sympy (400 modules) on the first shape-only ("meta") call; on a loaded
    # machine that import can outlast a case's time limit, and the alarm then leaves a half
    # imported sympy behind ("module 'sympy' has no attribute 'printing'" in later cases)
    catalogue.params.summary(torch.nn.Conv2d(1, 1, 3), (1, 1, 8, 8))

    limit = _vm_size() + HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out = sys.stdout
    sys.stdout = sys.stderr  # a stray print must not break the protocol
    for line in sys.stdin:
        request = json.loads(line)
        try:
            test_fuzz_functions.run_spec(catalogue.SPECS[request["spec"]])
            answer = {"ok": True, "report": ""}
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            text = "".join(traceback.format_exception(exc))
            answer = {"ok": False, "report": text[-6000:]}
        out.write(json.dumps(answer) + "\n")
        out.flush()


class FuzzChild:
    """A child process that runs specs by index (see ``serve``)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        code = (
            f"import sys; sys.path.insert(0, {str(TESTS_DIR)!r}); "
            "from fuzz import child; child.serve()"
        )
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        return subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def run(self, index: int, timeout: float = 180.0) -> tuple[bool, str]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"spec": index}) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            return False, f"the spec took more than {timeout:.0f} s (a hang?)"
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            self.proc = None
            return False, f"the child process died (exit code {code}) on this spec"
        answer = json.loads(line)
        return answer["ok"], answer["report"]

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        self.proc = None
