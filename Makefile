# The two commands of the README: `make dev` and `make test`. Both set everything up on a fresh
# machine (a virtualenv in .venv, DynamoDB Local in .cache/, cognito-local in
# localdev/cognito-local/node_modules).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: dev test test-fast test-browser dashboard lint typecheck bench ddblocal cognitolocal clean package deploy teardown

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP) ddblocal cognitolocal

ddblocal: $(STAMP)
	@$(PY) -m localdev.ddb_local ensure >/dev/null

# cognito-local (the local Cognito): `npm ci` in localdev/cognito-local when missing or outdated.
cognitolocal: $(STAMP)
	@$(PY) -m localdev.cognito ensure >/dev/null

dev: setup
	$(PY) -m localdev.dev

test: setup dashboard
	$(PY) -m pytest -n 2 --dist loadgroup

test-fast: setup
	$(PY) -m pytest tests/unit tests/api -q

test-browser: setup
	$(PY) -m pytest tests/browser

dashboard: $(STAMP)
	$(PY) -m scripts.dashboard_build

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m bench.run

# Deploy to AWS (README, "Deploy to AWS"). STAGE=dev|prod; DEPLOY_ARGS e.g. --dry-run,
# --configure-twilio, --region eu-west-1.
STAGE ?= dev
DEPLOY_ARGS ?=

package: $(STAMP)
	$(PY) -m infra.build --stage $(STAGE) --out infra/build/$(STAGE)

deploy: $(STAMP)
	$(PY) -m scripts.deploy --stage $(STAGE) $(DEPLOY_ARGS)

teardown: $(STAMP)
	$(PY) -m scripts.deploy --stage $(STAGE) --teardown $(DEPLOY_ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
