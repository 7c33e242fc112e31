# rapportkit — the two commands that set everything up on a fresh machine:
#   make run    create .venv, install, make the demo database if absent, open JupyterLab
#   make test   install the test extras and run every test (unit, notebooks, browser)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= data/rapportkit.db
PORT   ?=
LAB_PORT       = $(or $(PORT),8888)
DASHBOARD_PORT = $(or $(PORT),8866)
PYTEST ?= $(BIN)/python -m pytest

.PHONY: run test install dashboard hub-demo bench stress check lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/rapportkit demo --db $(DB) --if-empty
	$(BIN)/rapportkit lab --db $(DB) --port $(LAB_PORT)

dashboard: $(VENV)/.installed
	$(BIN)/rapportkit demo --db $(DB) --if-empty
	$(BIN)/rapportkit serve --db $(DB) --port $(DASHBOARD_PORT)

# configurable-http-proxy for the hub, from npm, into deploy/jupyterhub/node_modules (never global)
HUB_PROXY := deploy/jupyterhub/node_modules/.bin/configurable-http-proxy
$(HUB_PROXY): deploy/jupyterhub/package.json deploy/jupyterhub/package-lock.json
	npm ci --prefix deploy/jupyterhub --no-audit --no-fund --loglevel=error
	touch $@

# axe-core for the accessibility checks of tests/test_browser_a11y.py, into tests/a11y/node_modules
AXE := tests/a11y/node_modules/axe-core/axe.min.js
$(AXE): tests/a11y/package.json tests/a11y/package-lock.json
	npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error
	touch $@

test: $(VENV)/.installed-test $(HUB_PROXY) $(AXE)
	$(PYTEST) -q -m "not slow"

# as root: PostgreSQL (peer auth), demo OS accounts, the demo team and JupyterHub on
# 127.0.0.1:$(PORT or 8000); Ctrl-C stops everything and removes the accounts
hub-demo: $(VENV)/.installed-test $(HUB_PROXY)
	$(BIN)/python deploy/jupyterhub/hubdemo.py --port $(or $(PORT),8000)

stress: $(VENV)/.installed-test
	$(PYTEST) -q -m slow -s

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

check: $(VENV)/.installed
	$(BIN)/rapportkit check --db $(DB)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info deploy/jupyterhub/node_modules tests/a11y/node_modules
