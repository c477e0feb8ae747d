# One command per task. The README's two commands are `make lab` and `make test`;
# both set everything up themselves on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Real datasets (see ../shared/data/README.md); tests that need them skip when absent.
WORKBENCH_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export WORKBENCH_DATA_DIR
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# JupyterLab refuses to run as root unless told (containers and CI machines run as root).
LAB_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: setup browser lab demo test test-fast test-deep test-ui test-notebooks lint typecheck docs bench clean

## setup: virtual environment with the package, every extra and the dev tools
setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned to the small CPU build (snorkel would otherwise pull a CUDA build)
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[all,dev]"
	touch $(STAMP)

## browser: Debian's chromium for the real-browser tests
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

## demo: the built-in demo project (projects/demo)
demo: setup
	$(VENV)/bin/workbench demo projects/demo

## lab: JupyterLab on the quickstart notebook, over the demo project
lab: setup demo
	cd notebooks && ../$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 $(LAB_ROOT) 01_quickstart.ipynb

## test: the whole suite: unit, notebooks (nbval) and real-browser tests
test: setup browser
	$(PY) -m pytest tests notebooks --nbval-lax -p no:cacheprovider -n 2 --dist loadfile

test-fast: setup
	$(PY) -m pytest tests -m "not slow and not ui" -q

## test-deep: the model-based (hypothesis) tests with a long profile: 300 random programs of 50 steps
test-deep: setup
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest tests/workbench/test_stateful.py -q

test-ui: setup browser
	$(PY) -m pytest tests/ui -q

test-notebooks: setup
	$(PY) -m pytest notebooks --nbval-lax -q

lint: setup
	$(VENV)/bin/ruff check workbench widgets tests benchmarks
	$(VENV)/bin/mypy

typecheck: setup
	$(VENV)/bin/mypy

## docs: the documentation site (API reference, the notebooks rendered unexecuted) in docs/_build/html
docs: setup
	$(PY) -m sphinx -b html -W --keep-going -q docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

## bench: every benchmark, printing ratios against the peers measured in the same run
bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache projects notebooks/projects docs/_build
