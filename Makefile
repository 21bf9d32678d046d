# asrkt developer entry points. Every target installs what it needs first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# pytest-xdist workers of `make check` and `make test` (one per core here; each test file runs
# whole on one worker, so module-scoped recipe runs are made once). JOBS=0 runs in-process.
JOBS   ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo lint check test test-studies bench clean-venv

install: $(STAMP)

$(STAMP): setup.cfg setup.py pyproject.toml asrkt/decode/_latgen.cpp
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The built-in default corpus, end to end (see recipes/synth_digits/README.md).
demo: $(STAMP)
	cd recipes/synth_digits && PATH=$(CURDIR)/$(BIN):$$PATH bash run.sh

# ruff over the package, the tests and the scripts (config in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check asrkt tests scripts

# The inner loop: lint, then every test not marked slow (under 3 minutes on 2 cores).
check: lint
	$(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile -m "not slow" --durations=15 tests

# The full suite, as CI runs it (slow end-to-end recipe runs included, the study scripts' runs
# not), with the 15 slowest tests.
test: lint
	$(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile -m "not study" --durations=15 tests

# The recipes' study scripts end to end (local/*_study.sh on tiny data): run them before
# changing a study script or the recipe functions it calls.
test-studies: $(STAMP)
	$(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile -m study --durations=15 tests

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

clean-venv:
	rm -rf $(VENV)
