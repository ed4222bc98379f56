# Harmony: `make demo` runs the app with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
VENV_PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: demo test lint install clean-demo help

help:
	@echo "make demo   run Harmony with demo data at http://$(HOST):$(PORT)"
	@echo "make test   run the test suite (SQLite, and PostgreSQL when its server programs are installed)"

$(VENV_PY):
	@python=$${PYTHON:-$$(scripts/find-python)} || exit 1; \
	echo "Creating $(VENV) with $$python ($$($$python --version 2>&1))"; \
	"$$python" -m venv $(VENV)

# Reinstall only when the project's metadata changed.
$(VENV)/.installed: pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check -e '.[demo]'
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

demo: $(VENV)/.installed
	@export HARMONY_DEMO=1 HARMONY_BASE_URL=$${HARMONY_BASE_URL:-http://$(HOST):$(PORT)}; \
	$(VENV)/bin/harmony db upgrade && \
	$(VENV)/bin/harmony demo load && \
	exec $(VENV)/bin/harmony demo run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	$(VENV_PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check 'ruff>=0.8,<1'
	$(VENV)/bin/ruff check harmony tests benchmarks

clean-demo:
	rm -f instance/harmony.db instance/harmony.db-wal instance/harmony.db-shm
	rm -rf instance/search-index instance/attachments
