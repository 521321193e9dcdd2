# Every target that needs Python sets up .venv itself, so a fresh clone needs only `make lab` or `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
PYTEST_WORKERS ?= 2

.PHONY: help venv lab test unit browser notebooks bench weights chromium lint format clean

help:
	@echo "make lab        start JupyterLab on notebooks/ (sets up .venv on first use)"
	@echo "make test       lint, unit and property tests, strict nbval, browser tests"
	@echo "make notebooks  re-execute every notebook in place"
	@echo "make bench      print the benchmark tables"
	@echo "make weights    retrain notebook 08's network (fixed seed) into cnnlib/weights/"

venv: $(STAMP)

$(STAMP): pyproject.toml jupyter/overrides.json $(wildcard jupyter/labextensions/*/package.json jupyter/labextensions/*/static/*)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e ".[dev]"
	mkdir -p $(LAB_SETTINGS) && cp jupyter/overrides.json $(LAB_SETTINGS)/overrides.json
	# live ipywidgets views inside jupyterlab-rise slides (see jupyter/labextensions/)
	rm -rf $(VENV)/share/jupyter/labextensions/cnn-course-slides
	cp -r jupyter/labextensions/cnn-course-slides $(VENV)/share/jupyter/labextensions/
	touch $(STAMP)

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
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 $(ALLOW_ROOT) $(LAB_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# One pytest run: unit and property tests, strict nbval over every notebook, browser tests.
# --dist loadfile keeps each notebook's cells on one worker (they share a kernel).
test: $(STAMP) chromium lint
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile \
	  --nbval --nbval-current-env --nbval-cell-timeout=300 tests notebooks

unit: $(STAMP)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not browser" tests

browser: $(STAMP) chromium
	$(VENV)/bin/pytest -m browser tests

notebooks: $(STAMP)
	$(VENV)/bin/ruff format notebooks
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.store_widget_state=True \
	  notebooks/*.ipynb

bench: $(STAMP)
	$(PY) -m benchmarks

# Notebook 08's trained network, shipped in cnnlib/weights/shapes_cnn.pt: one command, seed 0.
weights: $(STAMP)
	$(PY) -m cnnlib.training

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
