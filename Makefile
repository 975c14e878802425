# Everything a fresh machine needs is installed from here: only python3 and make are assumed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=
PORT ?= 8080

.PHONY: venv test test-fast emulator demo clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

# Everything but the real-scheduler end-to-end test (and the later ui/slow marks).
test-fast: venv
	$(PY) -m pytest -m "not e2e and not ui and not slow" $(PYTEST_ARGS)

# The project's main job: both example DAGs end to end on the embedded emulator, then a summary.
demo: venv
	$(PY) tools/demo.py

emulator: venv
	$(PY) -m airflow_provider_datapump.emulator --host 127.0.0.1 --port $(PORT)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
