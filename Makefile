# Two commands on a fresh machine: `make book` and `make test` (see README.md).
PROFILE ?= cpu
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FORCE_FLAG := $(if $(filter 1 yes true,$(FORCE)),--force)

.PHONY: book test data bench clean

# The virtualenv with the pinned packages; rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Fetch (if needed) and verify CIFAR-10 against its sha256 digests.
data: $(STAMP)
	$(PY) -m datadiet_core data verify cifar10

book: data
	$(PY) -m datadiet_core book --profile $(PROFILE) $(FORCE_FLAG)

test: data
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m datadiet_core bench --json

clean:
	rm -rf _build notebooks/*.ipynb book/_generated
