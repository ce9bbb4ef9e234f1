# The two commands of the README:
#   make dashboards   install everything into .venv and serve the dashboards with Voila
#   make test         install everything into .venv (and chromium) and run every test
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
PORT ?= 8866
IP ?= 127.0.0.1
TORCH = torch==2.13.0

.PHONY: install dashboards lab test chromium axe chp lint clean-notebooks data results

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned (a CPU build); the range in pyproject.toml is then satisfied.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@# the fast GRU compiled, plotly's widget bundle beside our Voila template (shared with Binder's postBuild)
	scripts/install_voila_template.sh "$(CURDIR)/$(VENV)" $(BIN)/python
	touch $@

install: $(VENV)/.installed

dashboards: install
	$(BIN)/grutools serve --port=$(PORT) --ip=$(IP)

# the clone's own notebooks (a developer's edits go into the repository; `grutools lab DIR` copies them elsewhere)
lab: install
	cd notebooks && JUPYTER_PATH="$(CURDIR)/share/jupyter" ../$(BIN)/jupyter lab

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

# axe-core (the accessibility rules the browser tests run) from the npm registry, beside the venv
AXE = $(VENV)/npm/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/npm axe-core@4
axe: $(AXE)

# configurable-http-proxy (JupyterHub's proxy, a Node program) from the npm registry, for the JupyterHub test
CHP = $(VENV)/npm/node_modules/.bin/configurable-http-proxy
$(CHP):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/npm configurable-http-proxy@5
chp: $(CHP)

test: install chromium axe chp
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check grutools tests scripts benchmarks

clean-notebooks: install
	$(BIN)/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb

# Regenerate what ships in data/ (checkpoints and pre-computed results); see data/README.md.
data: install
	for spec in adding:50 copy:30 sunspots:60; do \
	  $(BIN)/python -m grutools train --task $${spec%%:*} --length $${spec##*:} --hidden 16 --steps 1500 \
	    --snapshot-every 50 --quiet --out data/checkpoints/$${spec%%:*}_gru.pt || exit 1; \
	done
	for cell in gru rnn; do \
	  $(BIN)/python -m grutools train --task timescales --cell $$cell --length 100 --hidden 16 --steps 1500 \
	    --snapshot-every 100 --quiet --out data/checkpoints/timescales_$$cell.pt || exit 1; \
	done
	@# dashboard 09: with RECORDINGS (FSDD's recordings/ folder, see data/README.md) the features are made anew too
	$(BIN)/python -m grutools speech-data --quiet $(if $(RECORDINGS),--recordings "$(RECORDINGS)") \
	  --out data/checkpoints/digits_gru.pt
	@# dashboard 10: the corpus from this Python's standard library, its baselines, the character GRU (about 20 min)
	$(BIN)/python -m grutools text-data --corpus --quiet --out data/checkpoints/text_gru.pt

# The pre-computed multi-seed results (slow: about 15, 10, 5, 2, 4, 18, 3, 6, 4 and 8 minutes on 2 cores).
results: install
	$(BIN)/python -m grutools race-table --quiet --out data/results/race_adding.csv
	$(BIN)/python -m grutools learning-curves --quiet --out data/results/learning_curves.json
	$(BIN)/python -m grutools chrono-table --quiet --out data/results/chrono.csv
	$(BIN)/python -m grutools counting-study --quiet --out data/results/counting.json --checkpoints data/checkpoints
	$(BIN)/python benchmarks/gru_vs_lstm.py --out data/results/speed.json
	$(BIN)/python -m grutools rivals-study --jobs 2 --quiet --out data/results/rivals.csv
	$(BIN)/python benchmarks/rivals_scaling.py --out data/results/rivals_scaling.json
	$(BIN)/python -m grutools tuning-study --jobs 2 --quiet --out data/results/tuning.csv --scenarios-out data/results/scenarios.csv
	$(BIN)/python -m grutools speech-study --jobs 2 --quiet --out data/results/speech_order.csv \
	  --speakers-out data/results/speech_speakers.csv
	$(BIN)/python -m grutools text-study --jobs 2 --quiet --out data/results/text_study.csv
