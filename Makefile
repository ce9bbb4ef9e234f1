# The two commands of the README:
#   make dashboards   install everything into .venv and serve the dashboards with Voila
#   make test         install everything into .venv (and chromium) and run every test
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
PORT ?= 8866
TORCH = torch==2.13.0

.PHONY: install dashboards lab test chromium lint clean-notebooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned (a CPU build); the range in pyproject.toml is then satisfied.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@# Voila finds templates under <prefix>/share/jupyter: link ours (Font Awesome served locally) there
	mkdir -p $(VENV)/share/jupyter/voila/templates
	ln -sfn "$(CURDIR)/share/jupyter/voila/templates/grulab" $(VENV)/share/jupyter/voila/templates/grulab
	touch $@

install: $(VENV)/.installed

dashboards: install
	$(BIN)/voila notebooks/ --port=$(PORT)

lab: install
	$(BIN)/jupyter lab notebooks/

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

test: install chromium
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check grutools tests scripts

clean-notebooks: install
	$(BIN)/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb
