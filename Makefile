# vitlab: every target creates .venv and installs first (idempotent, fast when nothing changed).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FMNIST := /usr/share/datasets/fashion-mnist

.PHONY: install demo test test-fast bench parity findings findings-32px findings-long zoo curves study tui clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) (or set PY=python3.x)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	@if [ ! -d $(FMNIST) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian packages (dataset-fashion-mnist, tmux)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist tmux >/dev/null; \
	fi
	$(BIN)/pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/vitlab recipe run demo

test: install
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=15 $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -q -x -m "not slow"

bench: install
	$(BIN)/python benchmarks/run_all.py

parity: install
	$(BIN)/python benchmarks/parity.py

SEEDS ?= 0,1,2
zoo: install
	$(BIN)/vitlab zoo build --seeds $(SEEDS)

curves: install
	$(BIN)/python benchmarks/learning_curves.py --pack-to state/curves

findings: install
	$(BIN)/vitlab study claims --seeds 0,1,2 --pack-to state/study
	$(BIN)/vitlab study findings --seeds 0,1,2 -o docs/findings.md

findings-32px: install
	$(BIN)/vitlab findings study

findings-long: install
	$(BIN)/vitlab findings long

STUDY_SEED ?= 0
# the order they start in, two at a time: the 4x-budget ViT early, as it takes longest
STUDY_CELLS ?= resnet_basic,vit_basic,vit_deit_x4,resnet_deit,vit_deit
study: install
	$(BIN)/vitlab study train --seed $(STUDY_SEED) --jobs 2 --pack-to state/study --cells $(STUDY_CELLS)
	$(BIN)/vitlab study claims --seeds $(STUDY_SEED) --pack-to state/study

tui: install
	$(BIN)/vitlab tui

clean:
	rm -rf $(VENV) build *.egg-info
