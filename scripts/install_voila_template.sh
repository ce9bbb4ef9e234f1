#!/usr/bin/env bash
# Finish an environment's set-up; shared by `make install` and Binder's postBuild.
# Usage: scripts/install_voila_template.sh PREFIX PYTHON
#   PREFIX  the environment's prefix (a venv, or conda's); kept for Binder's postBuild, which passes it
#   PYTHON  that environment's python
# `grutools build` compiles the fused CPU GRU (about 20 s) now rather than in a student's first dashboard,
# and writes plotly's widget bundle beside our Voila template (grutools.classroom.template.prepare). Voila finds the
# template through `grutools serve` (the clone's share/jupyter) or, installed from a wheel, under PREFIX/share/jupyter.
set -euo pipefail
python=$2
rm -f "$1/share/jupyter/voila/templates/grulab" 2>/dev/null || true  # the link earlier versions made
"$python" -m grutools build
