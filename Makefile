# Two commands on a fresh machine: `make book` and `make test` (see README.md).
PROFILE ?= cpu
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FORCE_FLAG := $(if $(filter 1 yes true,$(FORCE)),--force)
FASHION_DIR := /usr/share/datasets/fashion-mnist

.PHONY: book test test-slow data fashion chromium bench clean

# The virtualenv with the pinned packages; rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Fetch (if needed) and verify CIFAR-10 against its sha256 digests.
data: $(STAMP)
	$(PY) -m datadiet_core data verify cifar10

# Fashion-MNIST (chapter C1): Debian's package where apt-get can install it (as root), else the
# official files over the internet (`data fetch` tries both and says which failed).
fashion: $(STAMP)
	@if [ ! -d $(FASHION_DIR) ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; fi
	$(PY) -m datadiet_core data fetch fashion_mnist

# Chromium for the browser test of the slow tier (skipped without it, except in CI).
chromium:
	@if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi

book: data fashion
	$(PY) -m datadiet_core book --profile $(PROFILE) $(FORCE_FLAG)

# The fast tier: every test but the slow ones (about 15 minutes on 2 cores).
test: data fashion
	$(PY) -m pytest -m "not slow"

# The slow tier: the smoke book in Chromium, the Ray engine, kill -9 and resume, determinism.
# CI builds the smoke book first and points DATADIET_BOOK_HTML at it.
test-slow: data fashion chromium
	$(PY) -m pytest -m slow

bench: $(STAMP)
	$(PY) -m datadiet_core bench --json

clean:
	rm -rf _build notebooks/*.ipynb book/_generated
