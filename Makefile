# Every command the README names. Each creates .venv from the requirements files when missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: setup test lint synth plan policy bench preview up clean policy-venv

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest -n 2

lint: setup
	$(PY) -m ruff check .

synth: setup
	$(PY) -m tools.synth $(STACK)

plan: setup
	$(PY) -m tools.plan $(STACK)

policy: setup
	$(PY) -m tools.policy $(STACK)

bench: setup
	$(PY) bench/synth_speed.py
	$(PY) bench/archive_size.py
	$(PY) bench/cold_start.py
	$(PY) bench/webhook_warm.py
	$(PY) bench/expire_backlog.py
	$(PY) bench/aggregator.py

# Real deployments: need the Pulumi CLI and AWS credentials (see README).
# The CLI does not create a local policy pack's virtualenv: policy-venv does (policy/venv, as
# PulumiPolicy.yaml names it), and the pack config file carries the stack's policy settings.
policy/venv/.installed: policy/requirements.txt
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/python -m pip install --quiet -r policy/requirements.txt
	touch $@

policy-venv: policy/venv/.installed

preview: policy-venv
	pulumi preview --stack $(STACK) --policy-pack policy --policy-pack-config policy/$(STACK)-config.json

up: policy-venv
	pulumi up --stack $(STACK) --policy-pack policy --policy-pack-config policy/$(STACK)-config.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
