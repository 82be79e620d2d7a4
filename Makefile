# Marsad: the two commands a user needs are `make run` and `make test`.
# Every target sets itself up (venv, packages, Kafka jars) and is quick the second time:
# the venv is synced to uv.lock only when it or pyproject.toml changes; uv and the jars are
# fetched once into ~/.cache/marsad.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JARS   := $(BIN)/marsad kafka fetch
PYTEST_ARGS ?=
# uv installs exactly what uv.lock pins (README, "Installing"). It is fetched once from PyPI
# into the same cache as the Kafka jars.
UV_VERSION := 0.13.9
UV_HOME    := $(HOME)/.cache/marsad/uv-$(UV_VERSION)
UV         := $(UV_HOME)/bin/uv

.PHONY: setup system-deps run test lint eval-gate unit integration demo bench drills soak clean kafka-stop lock

$(UV):
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet uv==$(UV_VERSION)

## --reinstall-package: the editable install maps the packages found when it was built; a room
## added since (desk/) would otherwise stay unmapped in an existing checkout.
$(STAMP): pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --quiet --frozen --extra dev --reinstall-package marsad --python $(PYTHON)
	touch $(STAMP)

## After changing dependencies in pyproject.toml: re-resolve uv.lock (commit both).
lock: | $(UV)
	$(UV) lock

setup: $(STAMP)
	$(JARS)

## Debian packages only the tests drive (Chromium, PostgreSQL, promtool): installed once if missing.
system-deps:
	scripts/system_deps.sh

## Run the monitor on its embedded default: local broker + ingest + stream + alerts.
run: setup
	$(BIN)/marsad up

## The whole suite: lint, types, the extraction gate, unit, integration, end-to-end and drills
## (the soak drill for MARSAD_SOAK_MINUTES, 5 here; `make soak` runs its full 20 minutes).
MARSAD_SOAK_MINUTES ?= 5
test: setup system-deps lint eval-gate
	MARSAD_SOAK_MINUTES=$(MARSAD_SOAK_MINUTES) $(BIN)/pytest $(PYTEST_ARGS)

## The soak drill alone, for its full 20 minutes.
soak: setup
	MARSAD_SOAK_MINUTES=20 $(BIN)/pytest -m drill tests/drills/test_drill_soak.py $(PYTEST_ARGS)

## Extraction figures on the frozen gold sets may not fall below tests/fixtures/eval_baseline.json.
eval-gate: $(STAMP)
	$(BIN)/marsad eval --gate tests/fixtures/eval_baseline.json --quiet

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy marsad ingest stream alerts desk control tests scripts bench
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: setup
	$(BIN)/pytest tests/integration tests/e2e $(PYTEST_ARGS)

demo: setup
	$(BIN)/marsad demo

bench: setup
	$(BIN)/python bench/run_all.py

drills: setup
	$(BIN)/pytest -m drill tests/drills $(PYTEST_ARGS)

kafka-stop: $(STAMP)
	$(BIN)/marsad kafka stop

clean:
	rm -rf $(VENV) .marsad .pytest_cache .mypy_cache .ruff_cache
