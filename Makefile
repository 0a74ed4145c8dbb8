# One entry point for people and CI. Every target installs what it needs first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check pytest bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/streamfold demo

## Lint, type check, layering check, then the whole test suite.
test: check pytest

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow and not benchmark"

## Several handler processes under steady load while the API answers queries (3 minutes;
## STREAMFOLD_SOAK_SECONDS=30 for a short run). See docs/reliability.md.
soak: $(STAMP)
	$(BIN)/python -m pytest tests/soak -m slow -s -q

## Every benchmark at a small size (a few minutes on two cores): checks the harnesses run.
## Figures for docs/performance.md come from the full-size commands listed there.
bench: $(STAMP)
	$(BIN)/streamfold bench all --quick

clean:
	rm -rf $(VENV) .streamfold .mypy_cache .ruff_cache
