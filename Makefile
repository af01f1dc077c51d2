# stylecam: `make run` sets up .venv and opens the app; `make test` sets up .venv and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stylecam-installed
ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test setup lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# an older .venv may hold opencv-python, whose own Qt clashes with PySide6's; it shares cv2/ with
	@# the headless build, so both go and the headless one comes back with the install below
	if $(BIN)/python -m pip show --quiet opencv-python >/dev/null 2>&1; then \
		$(BIN)/python -m pip uninstall --quiet --yes opencv-python opencv-python-headless; fi
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/stylecam $(ARGS)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/stylecam bench $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
