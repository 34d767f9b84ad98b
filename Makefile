# Every command the README names; run from the repository root. `make help` lists them.
# Each target creates .venv from the requirements files when missing (a few minutes the first time).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev
# Settings for this run only, space-separated KEY=VALUE: make plan STACK=prod CONFIG="apiMemoryMb=1024"
CONFIG ?=
CONFIG_FLAGS := $(foreach pair,$(CONFIG),-c $(pair))
MODULE ?=
BENCHES := synth_floor archive_size cold_start webhook_warm expire_backlog aggregator worker_batches local_cloud test_suite

.PHONY: help setup test lint synth plan policy cost bench mutation local demo preview up clean policy-venv

help:  ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo "  variables: STACK=dev|prod  CONFIG=\"key=value ...\" (synth, plan)"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@echo ">> creating $(VENV) and installing requirements-dev.txt (a few minutes the first time)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@echo ">> installing: pulumi, pulumi-aws, Powertools, boto3, moto, pytest, ruff, ..."
	$(PY) -m pip install --progress-bar off -r requirements-dev.txt | grep -E '^(Collecting|Successfully installed)' || test $${PIPESTATUS[0]} -eq 0
	touch $@
	@echo ">> $(VENV) ready"

setup: $(VENV)/.installed  ## create .venv from the requirements

test: setup  ## lint + the whole test suite (the CI command)
	@echo ">> ruff"
	$(PY) -m ruff check .
	@echo ">> pytest on 2 workers"
	$(PY) -m pytest -n 2 --dist worksteal

lint: setup  ## ruff only
	$(PY) -m ruff check .

local: setup  ## the stack in a local cloud (moto server on 127.0.0.1, no AWS account) until Ctrl-C
	$(PY) -m tools.local $(STACK)

demo: setup  ## every flow of the reference system through the local cloud, traced; non-zero on a mismatch
	$(PY) -m tools.local $(STACK) --demo

synth: setup  ## the stack's resources as JSON, offline
	$(PY) -m tools.synth $(STACK) $(CONFIG_FLAGS)

plan: setup  ## the readable plan: tree, routes, functions, alarms, policy findings
	$(PY) -m tools.plan $(STACK) $(CONFIG_FLAGS)

policy: setup  ## the policy rules over the synth; non-zero on a mandatory finding
	$(PY) -m tools.policy $(STACK)

cost: setup  ## monthly cost estimate, tuned vs. untuned
	$(PY) -m tools.cost $(STACK)

bench: setup  ## every benchmark, then non-zero if any missed its target
	@failed=""; for bench in $(BENCHES); do echo ">> bench/$$bench.py"; \
	  $(PY) bench/$$bench.py || failed="$$failed $$bench"; done; \
	  if [ -n "$$failed" ]; then echo "missed their targets:$$failed"; exit 1; fi; echo "every benchmark met its target"

mutation: setup  ## mutation testing of one module: make mutation MODULE=components/runtime/webhook_receiver/signatures.py
	$(PY) -m tools.mutation $(MODULE)

# Real deployments: need the Pulumi CLI and AWS credentials (see README).
# The CLI does not create a local policy pack's virtualenv: policy-venv does (policy/venv, as
# PulumiPolicy.yaml names it), and the pack config file carries the stack's policy settings.
policy/venv/.installed: policy/requirements.txt
	@echo ">> creating policy/venv for the local policy pack"
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/python -m pip install --quiet -r policy/requirements.txt
	touch $@

policy-venv: policy/venv/.installed  ## the policy pack's own venv (pulumi preview --policy-pack policy)

preview: policy-venv  ## pulumi preview with the policy pack (needs the Pulumi CLI and AWS credentials)
	pulumi preview --stack $(STACK) --policy-pack policy --policy-pack-config policy/$(STACK)-config.json

up: policy-venv  ## pulumi up with the policy pack (needs the Pulumi CLI and AWS credentials)
	pulumi up --stack $(STACK) --policy-pack policy --policy-pack-config policy/$(STACK)-config.json

clean:  ## remove .venv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
