# Every target that needs Python sets up .venv itself, so a fresh clone needs only `make lab` or `make test`.
# Python: the newest supported interpreter on PATH (python3.13, python3.12, python3.11, then python3
# if its version is supported); `make PYTHON=/path/to/python3.12 ...` chooses another.
SUPPORTED_PYTHONS := 3.13 3.12 3.11
# "X.Y" of interpreter $(1), or nothing if it does not run (a pyenv shim for a version not selected)
python_version = $(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifeq ($(origin PYTHON),command line)
else ifeq ($(origin PYTHON),environment)
else
PYTHON := $(firstword $(foreach v,$(SUPPORTED_PYTHONS),$(if $(filter $(v),$(call python_version,python$(v))),python$(v))) $(if $(filter $(SUPPORTED_PYTHONS),$(call python_version,python3)),python3))
endif
PYTHON_VERSION := $(if $(PYTHON),$(call python_version,$(PYTHON)))
comma := ,
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The exact versions behind the saved notebook outputs; pyproject.toml holds the ranges.
CONSTRAINTS := constraints.txt
PYTEST_WORKERS ?= 2
# A .venv made by another Python than the chosen one is rebuilt, never half-used.
VENV_VERSION := $(if $(wildcard $(PY)),$(call python_version,$(PY)))
REBUILD := $(if $(wildcard $(VENV)),$(if $(filter $(PYTHON_VERSION),$(VENV_VERSION)),,rebuild))

.PHONY: help venv lab test unit browser notebooks bench chromium lint format clean lock \
	test-pythons test-oldest rebuild mutation test-thorough weights

help:
	@echo "make lab            start JupyterLab on notebooks/ (sets up .venv on first use)"
	@echo "make test           lint, unit and property tests, strict nbval, browser tests"
	@echo "make test-thorough  the unit tests with every fuzz example and 500 per property"
	@echo "make notebooks      re-execute every notebook in place"
	@echo "make bench          print the benchmark tables"
	@echo "make test-pythons   unit, property and nbval tests on every supported Python found"
	@echo "make test-oldest    the unit tests with the lowest versions pyproject.toml allows"
	@echo "make lock           rewrite constraints.txt from .venv"
	@echo "make mutation       mutation testing of the core modules (MODULE=shapes for one)"
	@echo "make weights        recompute the networks and results of notebooks 05, 07, 08 and 09 into cnnlib/weights/"

venv: $(STAMP)

# Refuses an unsupported interpreter in one line, before anything is created; a failed set-up
# removes .venv, so the next `make` starts again rather than trusting a half-made one.
$(STAMP): pyproject.toml $(CONSTRAINTS) $(REBUILD)
	@case " $(SUPPORTED_PYTHONS) " in *" $(PYTHON_VERSION) "*) ;; *) \
	  echo "make: no supported Python (3.11, 3.12 or 3.13): $(if $(PYTHON),$(PYTHON) is $(or $(PYTHON_VERSION),not runnable),no python3.13, python3.12 or python3.11 on PATH and python3 is $(or $(call python_version,python3),missing)). Install one, or run: make $(or $(MAKECMDGOALS),venv) PYTHON=/path/to/python3.13"; \
	  exit 1;; esac
	$(if $(REBUILD),@echo "make: $(VENV) was made by Python $(or $(VENV_VERSION),unknown)$(comma) not $(PYTHON_VERSION): rebuilding it")
	$(if $(REBUILD),rm -rf $(VENV))
	@echo "make: setting up $(VENV) with $(PYTHON) (Python $(PYTHON_VERSION))"
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(PY) -m pip install --upgrade --quiet pip || { rm -rf $(VENV); exit 1; }
	# the slides extension and the lab settings install with cnnlib (pyproject's shared-data)
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev]" || { rm -rf $(VENV); exit 1; }
	touch $(STAMP)

rebuild:

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Jupyter will not start as root unless told to; containers and fresh cloud machines run as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# Extra arguments for `jupyter lab`, e.g. `make lab LAB_ARGS="--port=9999 --no-browser"`.
LAB_ARGS ?=

lab: $(STAMP)
	@echo "make: JupyterLab with $$($(PY) --version) from .venv"
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 $(ALLOW_ROOT) $(LAB_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# One pytest run: unit and property tests, strict nbval over every notebook (each run once,
# offline, then a second Run All in the same kernel: conftest.py), browser tests.
# --dist loadfile keeps each notebook's cells on one worker (they share a kernel);
# --durations lists the slowest tests, where to look when the suite grows.
test: $(STAMP) chromium lint
	@echo "make: testing with $$($(PY) --version) from .venv"
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not thorough" --durations=15 \
	  --nbval --nbval-current-env --nbval-cell-timeout=300 tests notebooks

# The same unit tests with the exhaustive draws: every example of every fuzz spec and the
# "thorough" hypothesis profile (500 examples per property), and the tests marked `thorough`
# (every slide of every notebook measured in the browser). Slow; for CI nights and releases.
test-thorough: $(STAMP) chromium lint
	HYPOTHESIS_PROFILE=thorough $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile \
	  -m "not browser or thorough" tests

unit: $(STAMP)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not browser and not thorough" tests

browser: $(STAMP) chromium
	$(VENV)/bin/pytest -m "browser and not thorough" tests

notebooks: $(STAMP)
	$(VENV)/bin/ruff format notebooks
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.store_widget_state=True \
	  notebooks/*.ipynb

bench: $(STAMP)
	$(PY) -m benchmarks

# Rewrite constraints.txt from the .venv that `make` built (after changing a range or a pin).
lock: $(STAMP)
	{ sed -n '/^#/p' $(CONSTRAINTS); $(PY) -m pip freeze --exclude-editable \
	  | sed -E 's/^(torch==[^+]*)\+.*/\1/'; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)

# Every supported Python this machine has (on PATH, or installed by pyenv), each in its own
# .venv-X.Y with the same constraints: lint-free unit, property and widget tests and strict nbval.
# Browser tests stay with `make test`; `make test-pythons BROWSER=1` adds them.
PYENV_ROOT_DIR := $(shell pyenv root 2>/dev/null)
python_for = $(firstword $(if $(filter $(1),$(call python_version,python$(1))),python$(1)) $(wildcard $(PYENV_ROOT_DIR)/versions/$(1).*/bin/python$(1)))
FOUND_PYTHONS := $(foreach v,$(SUPPORTED_PYTHONS),$(if $(call python_for,$(v)),$(v)))
PYTHONS_MARK := $(if $(BROWSER),,-m "not browser")

test-pythons:
	@echo "make: testing on Python $(or $(FOUND_PYTHONS),(none found))"
	$(foreach v,$(FOUND_PYTHONS),$(MAKE) --no-print-directory VENV=.venv-$(v) \
	  PYTHON=$(call python_for,$(v)) venv && \
	  .venv-$(v)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile -p no:cacheprovider \
	  $(PYTHONS_MARK) --nbval --nbval-current-env --nbval-cell-timeout=300 tests notebooks && ) true

# The lowest versions pyproject.toml allows (numpy 2.1.*, scipy 1.14.*, ...), in .venv-oldest:
# the unit tests (saved notebook outputs are compared with the pinned versions only).
test-oldest: $(STAMP)
	$(PY) -c "import tomllib; from cnnlib._requirements import minimum_versions; \
	  deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
	  print('\n'.join(f'{n}=={v}.*' for n, v in minimum_versions(deps).items()))" > .oldest.txt
	@cat .oldest.txt
	test -x .venv-oldest/bin/python || $(PYTHON) -m venv .venv-oldest
	.venv-oldest/bin/pip install --quiet -c .oldest.txt -e ".[dev]"
	.venv-oldest/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile -p no:cacheprovider \
	  -m "not browser" tests

# Mutation testing of the core modules with mutmut (not part of `make test`; tools/mutation.py
# says how). `make mutation MODULE=shapes` runs one module; MUTATION_JOBS=2 runs two mutants at once.
MODULE ?=
mutation: $(STAMP)
	$(PY) tools/mutation.py $(MODULE)

# What cnnlib ships in cnnlib/weights/, one command, fixed seeds: notebook 05's MaxPool and
# MaxBlurPool digit classifiers (shift_cnns.pt), notebook 07's skip comparison
# (init_skip_comparison.json), notebook 08's network (shapes_cnn.pt) and 09's shortcut network
# (shortcut_cnn.pt).
weights: $(STAMP)
	$(PY) -m cnnlib.training
	$(PY) -m cnnlib.equivariance

clean:
	rm -rf $(VENV) .venv-3.* .venv-oldest .oldest.txt .pytest_cache .ruff_cache .hypothesis
