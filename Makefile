# Sora SDK. `make demo` and `make test` do the whole set-up on a fresh Debian machine.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup demo test bench lint protos clean

setup: $(STAMP)

# System libraries: Open3D needs libusb-1.0 (its import fails without it) and libgomp.
$(STAMP): pyproject.toml scripts/setup.sh scripts/engine_clients/setup.sh
	bash scripts/setup.sh "$(PY)" "$(VENV)"
	touch $(STAMP)

demo: setup
	$(BIN)/sora demo

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/sora bench mapping

lint: setup
	$(BIN)/ruff check sora_sdk tests scripts
	cd protos && ../$(BIN)/buf lint
	$(BIN)/python scripts/gen_protos.py --check

protos: setup
	$(BIN)/python scripts/gen_protos.py
	$(BIN)/python scripts/engine_clients/gen_csharp.py

clean:
	rm -rf $(VENV) build *.egg-info sora_output
