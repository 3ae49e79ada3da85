# The workbook's driver. Two commands are all a student or CI needs:
#   make lab    set up .venv from the lock file and open JupyterLab on the workbook
#   make test   set up .venv and run the whole suite (unit tests + nbval over every notebook)
# Everything else is for the people who maintain the workbook.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8888
# yes: JupyterLab opens your default browser (when there is one); no: only print the link.
OPEN_BROWSER ?= yes
# student: the student workbook (exercise solutions stripped, built into student/ once and then
# left alone, since it holds your work); instructor: notebooks/ with every solution.
WORKBOOK ?= student
# The edition's language: en (English) or ko (Korean, 한국어판), e.g. `make lab EDITION=ko`.
EDITION ?= en
# Where the student workbook is built and served from (one folder per edition).
STUDENT ?= $(if $(filter en,$(EDITION)),student,student-$(EDITION))
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-x -k digits"`.
PYTEST_ARGS ?=
# Optional extra package index for torch, e.g. https://download.pytorch.org/whl/cpu
# on a Linux laptop without an NVIDIA GPU (smaller download than the CUDA build).
TORCH_INDEX ?=

NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
NOTEBOOKS := $(wildcard notebooks/*.ipynb)

.PHONY: lab test test-gpu unit lint format browser nbval notebooks lock bench clean

# The environment is rebuilt when the lock file or pyproject.toml changes.
$(VENV)/.installed: requirements/lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		$(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# JupyterLab refuses to run as root without --allow-root (containers, CI machines).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

LAB_ROOT := $(if $(filter instructor,$(WORKBOOK)),notebooks,$(STUDENT))

lab: $(VENV)/.installed
	$(if $(filter instructor,$(WORKBOOK)),,$(BIN)/mtml workbook --lang $(EDITION) --out $(STUDENT))
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=$(LAB_ROOT) $(ALLOW_ROOT) \
		--ServerApp.open_browser=$(if $(filter yes,$(OPEN_BROWSER)),True,False) --LabApp.news_url=None

# The linter runs first: a tree ruff rejects fails before the long tests start.
test: lint
	sh tools/install_system_packages.sh
	$(BIN)/python -m pytest tests $(NOTEBOOKS) $(NBVAL) $(PYTEST_ARGS)

# The fast edit-test loop: library unit tests only, no notebooks.
unit: $(VENV)/.installed
	$(BIN)/python -m pytest tests -m "not slow and not browser" $(PYTEST_ARGS)

# ruff: lint rules and formatting, as configured in pyproject.toml (notebooks are linted, not reformatted).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Apply ruff's formatting and its safe fixes.
format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The suite and the notebooks on a CUDA GPU, where one is lent: the device-agnostic tests on cuda
# (MTML_TEST_DEVICE), every device="auto" on the GPU, and nbval with MTML_DEVICE=cuda. Without a GPU
# it says so in one line and runs nothing.
test-gpu: $(VENV)/.installed
	@if $(BIN)/python -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then \
		MTML_TEST_DEVICE=cuda MTML_DEVICE=cuda $(BIN)/python -m pytest tests -m "not browser" \
			$(NOTEBOOKS) $(NBVAL) $(PYTEST_ARGS); \
	else \
		echo "make test-gpu: skipped, no CUDA GPU here (torch.cuda.is_available() is False)"; \
	fi

# The student's view in headless Chromium (JupyterLab started by `make lab`); screenshots in artifacts/browser/.
browser: $(VENV)/.installed
	sh tools/install_system_packages.sh
	$(BIN)/python -m pytest tests/test_browser.py $(PYTEST_ARGS)

nbval: $(VENV)/.installed
	$(BIN)/python -m pytest $(NOTEBOOKS) $(NBVAL) $(PYTEST_ARGS)

# Re-execute every notebook in place on the CPU and strip noise: the only way
# stored outputs are regenerated. NB=notebooks/01_tasks.ipynb does just one.
notebooks: $(VENV)/.installed
	$(BIN)/python tools/execute_notebooks.py $(or $(NB),$(NOTEBOOKS))

lock:
	$(PYTHON) tools/lock.py $(if $(UPGRADE),--upgrade)

bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
