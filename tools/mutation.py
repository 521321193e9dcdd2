"""Mutation testing of cnnlib's core modules with mutmut, one module at a time.

    python tools/mutation.py                 # every module (make mutation)
    python tools/mutation.py shapes params   # some modules (make mutation MODULE=shapes)

Each module runs in its own directory, ``build/mutation/<module>/``: a copy of ``cnnlib`` and
``tests`` and a ``pyproject.toml`` whose ``[tool.mutmut]`` table (the repository's, see
pyproject.toml) is given the module's file to mutate and the module's own test files (MODULES
below), so a mutant is run only against the tests written for its module. A module with more
mutants than its ``sample`` is run on a random sample of that many, drawn with a fixed seed.

The report (``build/mutation/report.md``, also printed) gives per module: the mutants run, the
score (killed / (run - equivalent - error-message-only)), the survivors with their diff, and the
time taken. A mutant is *error-message-only* when its only change is to the message of a
``raise`` (counted apart: the messages are pinned by tests of their own, with ``match=``).
A mutant is *equivalent* when it is listed, with the reason, in ``tools/mutation_equivalent.txt``;
one listed there with a reason that starts ``message-only`` is counted as error-message-only (a
checker's feedback reworded, its content - the number, the name, the rule - kept: the tests pin
the content, not the wording).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "mutation"
EQUIVALENT = ROOT / "tools" / "mutation_equivalent.txt"
SEED = 20
MUTMUT = str(Path(sys.executable).with_name("mutmut"))


@dataclass(frozen=True)
class Module:
    sources: tuple[str, ...]  # files mutated, relative to the repository
    tests: tuple[str, ...]  # the test files its mutants are run against
    sample: int | None = None  # run a seeded sample of this many mutants (None: all)


def _exercise_files() -> tuple[str, ...]:
    return tuple(
        str(p.relative_to(ROOT)) for p in sorted((ROOT / "cnnlib" / "exercises").glob("*.py"))
    )


MODULES: dict[str, Module] = {
    "shapes": Module(("cnnlib/shapes.py",), ("tests/test_shapes.py",)),
    "params": Module(("cnnlib/params.py",), ("tests/test_params.py",), 300),
    "receptive": Module(("cnnlib/receptive.py",), ("tests/test_receptive.py",), 300),
    "backprop": Module(("cnnlib/backprop.py",), ("tests/test_backprop.py",), 300),
    "conv": Module(("cnnlib/conv.py",), ("tests/test_conv.py",), 300),
    "equivariance": Module(("cnnlib/equivariance.py",), ("tests/test_equivariance.py",), 300),
    "exercises": Module(
        _exercise_files(),
        tuple(
            str(p.relative_to(ROOT)) for p in sorted((ROOT / "tests").glob("test_exercises_*.py"))
        ),
        300,
    ),
    # the views' sample pictures (house, photo, ...) are checked by hand in their own file
    "data": Module(("cnnlib/data.py",), ("tests/test_data.py", "tests/test_data_samples.py"), 300),
    "explain": Module(
        ("cnnlib/explain.py",),
        (
            "tests/test_explain.py",
            "tests/test_explain_baselines.py",
            "tests/test_explain_sanity.py",
        ),
        300,
    ),
}


# -- one module's working directory -------------------------------------------------------------
def _mutmut_table(module: Module) -> str:
    """The repository's [tool.mutmut] table, with this module's files and tests filled in."""
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r"^\[tool\.mutmut\]\n(.*?)(?=^\[|\Z)", text, re.S | re.M)
    if not match:
        raise SystemExit("pyproject.toml has no [tool.mutmut] table")
    base = "\n".join(
        line
        for line in match.group(1).splitlines()
        if not re.match(r"(only_mutate|pytest_add_cli_args_test_selection)\s*=", line)
    )
    rest = text[: match.start()] + text[match.end() :]
    return (
        rest.rstrip()
        + "\n\n[tool.mutmut]\n"
        + base.strip()
        + f"\nonly_mutate = {json.dumps(list(module.sources))}"
        + f"\npytest_add_cli_args_test_selection = {json.dumps(list(module.tests))}\n"
    )


def prepare(name: str, module: Module) -> Path:
    work = BUILD / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "browser", "screenshots")
    for folder in ("cnnlib", "tests"):
        shutil.copytree(ROOT / folder, work / folder, ignore=ignore)
    (work / "pyproject.toml").write_text(_mutmut_table(module))
    return work


def list_mutants(sources: tuple[str, ...]) -> list[str]:
    """Every mutant mutmut makes of these files (run in the module's directory)."""
    from mutmut.mutation.file_mutation import mutate_file_contents
    from mutmut.utils.format_utils import get_mutant_name

    names = []
    for src in sources:
        mutated = mutate_file_contents(src, Path(src).read_text())
        names += [get_mutant_name(Path(src), m) for m in mutated.mutant_names]
    return sorted(names)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = "1"  # the machine is shared: one thread per mutant worker
    env["MPLBACKEND"] = "Agg"
    return env


# -- classifying mutants ----------------------------------------------------------------------
def _functions(path: Path, module: str) -> dict[str, ast.FunctionDef]:
    """The mutated file's functions by full mutant name (``module.x_f__mutmut_3``): two files
    of one module (exercises/) may hold functions of the same name."""
    tree = ast.parse(path.read_text())
    return {
        f"{module}.{n.name}": n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in n.name
    }


def _message_only(a: ast.AST, b: ast.AST, in_message: bool = False) -> bool | None:
    """True if ``b`` differs from ``a`` only inside the message of a raise; None if equal."""
    if type(a) is not type(b):
        return in_message or False
    if isinstance(a, ast.Raise) and isinstance(a.exc, ast.Call) and isinstance(b.exc, ast.Call):
        dump = lambda n: ast.dump(n) if n is not None else ""  # noqa: E731
        if dump(a.exc.func) != dump(b.exc.func) or dump(a.cause) != dump(b.cause):
            return False
        return None if dump(a.exc) == dump(b.exc) else True
    differs = None
    for field in a._fields:
        x, y = getattr(a, field), getattr(b, field)
        if isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                return in_message or False
            pairs = zip(x, y, strict=True)
        else:
            pairs = [(x, y)]
        for u, v in pairs:
            if isinstance(u, ast.AST) and isinstance(v, ast.AST):
                r = _message_only(u, v, in_message)
            else:
                r = None if u == v else in_message or False
            if r is False:
                return False
            differs = differs or r
    return differs


def is_message_only(functions: dict[str, ast.FunctionDef], mutant: str) -> bool:
    mutated = functions.get(mutant)
    original = functions.get(mutant.rpartition("__mutmut_")[0] + "__mutmut_orig")
    if mutated is None or original is None:
        return False
    body = ast.Module(body=original.body, type_ignores=[]), ast.Module(mutated.body, [])
    return bool(_message_only(*body))


def load_equivalent() -> dict[str, str]:
    """``mutant name: reason`` lines of tools/mutation_equivalent.txt (# starts a comment)."""
    out = {}
    for line in EQUIVALENT.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, reason = line.partition(":")
            out[name.strip()] = reason.strip()
    return out


def diff(functions: dict[str, ast.FunctionDef], mutant: str) -> str:
    """The lines the mutant changes, ``- old / + new``."""
    mutated = functions.get(mutant)
    original = functions.get(mutant.rpartition("__mutmut_")[0] + "__mutmut_orig")
    if mutated is None or original is None:
        return "(not found in the mutated file)"
    a = ast.unparse(ast.Module(original.body, [])).splitlines()
    b = ast.unparse(ast.Module(mutated.body, [])).splitlines()
    lines = [
        ln
        for ln in difflib.unified_diff(a, b, lineterm="", n=0)
        if ln[:1] in "+-" and not ln.startswith(("+++", "---"))
    ]
    return " / ".join(ln[0] + " " + ln[1:].strip() for ln in lines)[:400]


# -- running ----------------------------------------------------------------------------------
def run_module(name: str, module: Module, jobs: int) -> dict:
    work = prepare(name, module)
    listed = subprocess.run(
        [sys.executable, __file__, "--list", *module.sources],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    chosen = listed
    if module.sample and len(listed) > module.sample:
        chosen = sorted(random.Random(SEED).sample(listed, module.sample))
    print(f"== {name}: {len(chosen)} of {len(listed)} mutants, tests {' '.join(module.tests)}")
    start = time.monotonic()
    done = subprocess.run(
        [MUTMUT, "run", "--max-children", str(jobs), *chosen], cwd=work, env=_env(), check=False
    )
    seconds = time.monotonic() - start
    run = {"listed": len(listed), "chosen": chosen, "seconds": round(seconds)}
    run["exit"] = done.returncode  # mutmut stops (exit 1) when the clean tests fail
    (work / "run.json").write_text(json.dumps(run))
    return collect(name, module)


def collect(name: str, module: Module) -> dict:
    """Read a finished run's results (mutmut's .meta files) and classify every mutant."""
    work = BUILD / name
    run = json.loads((work / "run.json").read_text())
    chosen, seconds = run["chosen"], run["seconds"]
    from mutmut.stats import status_by_exit_code

    status: dict[str, str] = {}
    for src in module.sources:
        meta = json.loads((work / "mutants" / (src + ".meta")).read_text())
        for key, code in meta["exit_code_by_key"].items():
            status[key] = status_by_exit_code[code]
    functions: dict[str, ast.FunctionDef] = {}
    for src in module.sources:
        module_name = src.removesuffix(".py").replace("/", ".")
        functions |= _functions(work / "mutants" / src, module_name)
    equivalent = load_equivalent()
    rows = []
    for m in chosen:
        s = status.get(m, "not checked")
        listed = equivalent.get(m)
        kind = "" if listed is None else "equivalent"
        if listed is not None and listed.startswith("message-only"):
            kind = "message"  # listed by hand: it only rewords a checker's feedback text
        kind = kind or ("message" if is_message_only(functions, m) else "")
        rows.append({"mutant": m, "status": s, "kind": kind})
    for r in rows:
        if r["status"] != "killed" and r["status"] != "timeout":
            r["diff"] = diff(functions, r["mutant"])
    result = {
        "module": name,
        "mutants": run["listed"],
        "run": len(chosen),
        "sampled": len(chosen) < run["listed"],
        "seed": SEED,
        "seconds": seconds,
        "tests": list(module.tests),
        "rows": rows,
        "exit": run.get("exit", 0),
    }
    (BUILD / f"{name}.json").write_text(json.dumps(result, indent=1))
    return result


def summarise(result: dict) -> dict:
    rows = result["rows"]
    killed = lambda r: r["status"] in ("killed", "timeout")  # noqa: E731
    scored = [r for r in rows if not r["kind"]]
    message = [r for r in rows if r["kind"] == "message"]
    equivalent = [r for r in rows if r["kind"] == "equivalent"]
    k = sum(map(killed, scored))
    return {
        "scored": len(scored),
        "killed": k,
        "score": k / len(scored) if scored else 1.0,
        "survivors": [r for r in scored if not killed(r)],
        "message": len(message),
        "message_killed": sum(map(killed, message)),
        "equivalent": len(equivalent),
        "equivalent_killed": [r["mutant"] for r in equivalent if killed(r)],
    }


def report() -> str:
    out = [
        "# Mutation testing report (tools/mutation.py)",
        "",
        "| module | mutants run | score | killed / scored | equivalent | message-only "
        "(killed) | time |",
        "|---|---|---|---|---|---|---|",
    ]
    details, total = [], 0
    for name in MODULES:
        path = BUILD / f"{name}.json"
        if not path.exists():
            continue
        res = json.loads(path.read_text())
        s = summarise(res)
        total += res["seconds"]
        run = f"{res['run']}" + (
            f" of {res['mutants']} (seed {res['seed']})" if res["sampled"] else ""
        )
        out.append(
            f"| {name} | {run} | {s['score']:.1%} | {s['killed']} / {s['scored']} | "
            f"{s['equivalent']} | {s['message']} ({s['message_killed']}) | "
            f"{res['seconds'] // 60} min {res['seconds'] % 60} s |"
        )
        unchecked = sum(r["status"] == "not checked" for r in res["rows"])
        if unchecked:
            out.append(
                f"| {name} | **{unchecked} of {res['run']} mutants not checked** (mutmut exit "
                f"{res.get('exit', '?')}: see its output above; a failing clean test run or an "
                "error in mutmut's stats phase stops it before any mutant) | | | | | |"
            )
        if s["survivors"] or s["equivalent_killed"]:
            details.append(f"\n## {name}: surviving mutants\n")
            details += [
                f"- `{r['mutant']}` ({r['status']}): {r.get('diff', '')}" for r in s["survivors"]
            ]
            details += [
                f"- `{m}` is listed as equivalent but was killed: remove it from the list"
                for m in s["equivalent_killed"]
            ]
    out.append(f"\nTotal time {total // 60} min {total % 60} s.")
    return "\n".join(out + details) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"some of {', '.join(MODULES)} (default all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", 1)))
    parser.add_argument(
        "--collect", action="store_true", help="re-read the last run's results, run nothing"
    )
    parser.add_argument("--list", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(list_mutants(tuple(args.modules))))
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    for name in args.modules or list(MODULES):
        if args.collect:
            collect(name, MODULES[name])
        else:
            run_module(name, MODULES[name], args.jobs)
    text = report()
    (BUILD / "report.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
