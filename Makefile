# Thin wrappers: the logic lives in scripts/ so that every target also works without make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

IMAGE ?= context-encoder-inpaint
PYTEST_ARGS ?=
LOCK_ARGS ?=

.PHONY: help run test setup setup-dev lock lint format image smoke ci clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: ## create .venv if needed (CPU torch), install the app, serve the editor on http://127.0.0.1:8000/
	@bash scripts/bootstrap.sh run

test: ## set up .venv with the dev/eval extras and Chromium, run the whole suite (no test run = failure)
	@bash scripts/bootstrap.sh test $(PYTEST_ARGS)

setup: ## only install: .venv with CPU torch and the app
	@bash scripts/bootstrap.sh setup

setup-dev: ## only install: setup + dev/eval extras + Chromium
	@bash scripts/bootstrap.sh setup-dev

lock: ## re-resolve requirements/lock*.txt (hashed pins) from pyproject.toml; LOCK_ARGS=--upgrade moves every pin
	@bash scripts/lock.sh $(LOCK_ARGS)

lint: setup-dev ## ruff check and format check
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: setup-dev ## ruff fix and format
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

image: ## docker build -t $(IMAGE) . (CPU torch from PyTorch's CPU wheel index)
	docker build -t $(IMAGE) .

smoke: ## build the image and check one real POST /inpaint against the container (docker or podman)
	@bash scripts/container_smoke.sh

ci: ## what CI runs: make test, then the container smoke test
	@bash .ci/run

clean: ## remove the venv, build outputs and test artifacts
	rm -rf .venv build dist *.egg-info test-artifacts .pytest_cache
