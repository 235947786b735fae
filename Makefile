# Grace's Towel: everything a developer or CI runs. Needs only Python 3.11+ and make.
#
#   make dev        install (first time) and run the whole stack locally, Ctrl-C stops it
#   make test       install (first time), then lint, format check, type check, tests
#   make lint       ruff check, ruff format --check, mypy
#   make bench      python -m benchmarks $(BENCH_ARGS), e.g. make bench BENCH_ARGS="--stripe-latency 300ms"
#   make replay-check  before every deploy: replay the open workflows on Temporal (TEMPORAL_* settings) on this code
#   make fuzz       schemathesis (every check, stateful too) against a fresh stack: python -m fuzz
#   make clean-dev  DELETE all local dev data (.dev: Postgres, Temporal history, localstripe, logs)
#
# PYTHON picks the interpreter the virtualenv is made from: make dev PYTHON=python3.12

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
# Touched after a successful install; pip runs again whenever pyproject.toml is newer.
INSTALL_STAMP := $(VENV)/.installed-gracestowel

.DEFAULT_GOAL := help
.PHONY: help venv dev test lint bench fuzz replay-check clean-dev

help:
	@sed -n 's/^#   //p' Makefile

$(VENV_PYTHON):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "Grace's Towel needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1). Try: make $(MAKECMDGOALS) PYTHON=python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || \
		{ echo "Could not create $(VENV). On Debian/Ubuntu: apt install python3-venv" >&2; rm -rf $(VENV); exit 1; }

$(INSTALL_STAMP): pyproject.toml | $(VENV_PYTHON)
	@echo "Installing Grace's Towel and its dev tools into $(VENV) (pyproject.toml changed or first run)"
	$(VENV_PYTHON) -m pip install --disable-pip-version-check -e '.[dev]'
	@touch $(INSTALL_STAMP)

venv: $(INSTALL_STAMP)

dev: $(INSTALL_STAMP)
	$(VENV_PYTHON) -m devstack

lint: $(INSTALL_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest

bench: $(INSTALL_STAMP)
	$(VENV_PYTHON) -m benchmarks $(BENCH_ARGS)

replay-check: $(INSTALL_STAMP)
	$(VENV_PYTHON) -m devstack.replay_check

fuzz: $(INSTALL_STAMP)
	$(VENV_PYTHON) -m fuzz

clean-dev: $(INSTALL_STAMP)
	$(VENV_PYTHON) -m devstack clean
