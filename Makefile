# The index of every command; CI (.ci/run) calls these same targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
ENV_FILE := .local/salesflow.env
# Endpoints written by infra/up.sh, unless the caller exported its own.
WITH_ENV := if [ -z "$${SALESFLOW_KAFKA_BOOTSTRAP:-}" ] && [ -f $(ENV_FILE) ]; then \
	set -a; . ./$(ENV_FILE); set +a; fi;

.PHONY: help bootstrap infra-up infra-down infra-purge lint alerts fmt test test-unit test-integration \
        demo migrate topics schemas schemas-check asyncapi release-schemas bench bench-soak chaos chaos-campaign clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

bootstrap: $(VENV)/.synced ## virtualenv + locked install (uv)

infra-up: bootstrap ## start Kafka (SASL/SCRAM, TLS, ACLs) and PostgreSQL (a role per service) on 127.0.0.1
	bash infra/up.sh

infra-down: ## stop them
	bash infra/down.sh

infra-purge: ## stop them and delete their data
	bash infra/down.sh --purge

lint: bootstrap alerts ## ruff, mypy, import-linter, schemas up to date and compatible with the last release, AsyncAPI valid, alert rules tested
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports
	$(PY) -m contracts.schemagen --check
	$(PY) -m contracts.releases --check
	bash scripts/asyncapi.sh --check

alerts: ## Prometheus alert rules: promtool check + unit tests (ops/prometheus; fetches promtool)
	bash scripts/alerts.sh

fmt: bootstrap ## format and autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: bootstrap lint infra-up ## everything: lint, unit, contract, integration, e2e, chaos on real Kafka + PostgreSQL
	$(WITH_ENV) $(PY) -m pytest

test-unit: bootstrap ## fast tests only (no I/O)
	$(PY) -m pytest tests/unit tests/contract

test-integration: bootstrap infra-up ## tests that need the real servers
	$(WITH_ENV) $(PY) -m pytest -m "integration or e2e or chaos"

migrate: bootstrap infra-up ## apply every service's migrations
	$(WITH_ENV) $(VENV)/bin/salesflow migrate

topics: bootstrap infra-up ## create every topic with its partitions
	$(WITH_ENV) $(VENV)/bin/salesflow topics create

demo: bootstrap infra-up ## run the pipeline (DEPLOYMENT=full|crm-leads|crm-quotes): infra, workers, imports, drive, report
	$(WITH_ENV) DEMO_DEPLOYMENT=$(DEPLOYMENT) bash scripts/demo.sh

schemas: bootstrap ## regenerate the committed JSON Schemas after a deliberate contract change
	$(PY) -m contracts.schemagen

asyncapi: bootstrap ## regenerate docs/asyncapi/ (AsyncAPI 3: the system and each worker) and validate it
	bash scripts/asyncapi.sh

release-schemas: bootstrap ## after raising the version in pyproject.toml: the schemas become the release the gate holds to
	$(PY) -m contracts.schemagen --check
	$(PY) -m contracts.releases --cut

bench: bootstrap infra-up ## benchmark: raw aiokafka baseline, one stage, end to end, memory (BENCHMARKS.md)
	$(WITH_ENV) $(PY) -m bench

bench-soak: bootstrap infra-up ## ten minutes at half load, RSS of every worker every 5 s
	$(WITH_ENV) $(PY) -m bench --soak

DEPLOYMENT ?= full
SEED ?= 424242
DURATION ?= 1200
SCENARIOS ?= all
# The network faults build toxiproxy (scripts/toxiproxy.sh) and clock_skew installs libfaketime
# (scripts/faketime.sh) the first time a run asks for them.
chaos: bootstrap infra-up ## the long randomised fault-injection run (RELIABILITY.md): SEED=... DURATION=... SCENARIOS=all,cluster on a cluster
	$(WITH_ENV) $(PY) -m chaos --seed $(SEED) --duration $(DURATION) --scenarios $(SCENARIOS)

ONLY ?=
chaos-campaign: bootstrap infra-up ## the seeded long runs RELIABILITY.md records (chaos/campaign.py) for the broker mode infra runs, then their table; ONLY=seed,...
	$(WITH_ENV) $(PY) -m chaos.campaign run --only "$(ONLY)"; status=$$?; \
	$(PY) -m chaos.campaign table; exit $$status

clean: ## remove the virtualenvs and caches (not the infra data)
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
