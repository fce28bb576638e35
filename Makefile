# The two commands a user needs: `make run` (the main job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test faults bench compat-table ports install install-test install-check clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml scripts/install_data.sh scripts/install_system.sh | $(VENV)/bin/python
	$(PIP) install --quiet -e '.[test,bench,tensorboard,mpi,onnx,jax]'
	bash scripts/install_data.sh $(PY)
	bash scripts/install_system.sh
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(PY) -m chainrule.main

test: install-test
	$(PY) -m pytest

bench: install-test
	$(PY) -m chainrule.cli bench

# The fault-injection loops that kill real training and saving processes (a few minutes);
# the fast fault cases run in `make test`.
faults: install-test
	$(PY) -m pytest tests/faults -m slow

# docs/compatibility.md: every public PyTorch name, implemented / absent (why) / missing.
compat-table: install-test
	$(PY) scripts/compat_table.py

# The corpus of public PyTorch programs run unchanged through `chainrule run`, one PASS/FAIL
# line each (ports/manifest.toml; fetch them first: python scripts/ports.py fetch DIR).
ports: install-test
	@test -n "$(DIR)" || (echo "make ports DIR=folder-with-the-programs" >&2; exit 2)
	$(PY) scripts/ports.py $(DIR)

# `pip install .` into a fresh venv the plain way, then the README's commands (a minute or two).
install-check: install-test
	CHAINRULE_INSTALL_CHECK=1 $(PY) -m pytest tests/test_install.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
