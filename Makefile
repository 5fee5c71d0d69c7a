# AIOS — `make run` starts the app with demo data; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements

.PHONY: run test venv migrate worker edge-worker lint fmt typecheck bench clean-data services-down

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

run: venv ## embedded services, migrate, demo data, web + worker + beat (Ctrl-C stops all)
	$(PY) -m aios_app.launcher

test: venv ## the whole suite (browser tests need /usr/bin/chromium)
	$(PY) -m pytest $(PYTEST_ARGS)

migrate: venv
	$(PY) manage.py migrate --noinput

worker: venv ## a central worker; QUEUES=edge-eu make worker for another queue
	$(PY) manage.py run_worker --queues $${QUEUES:-central}

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: venv
	@echo "mypy is not installed in this environment yet; see docs/development.md" && exit 1

bench: venv ## quick-scale runs of every benchmark; pass BENCH_ARGS= for the full scale
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b $${BENCH_ARGS:---quick} || exit 1; done

services-down: ## stop embedded PostgreSQL/Redis left running (e.g. after kill -9)
	$(PY) -m aios_app.embedded down
	AIOS_DATA_DIR=.data/test $(PY) -m aios_app.embedded down

clean-data: services-down ## delete all local data (dev and test)
	rm -rf .data
