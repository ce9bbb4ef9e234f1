#!/usr/bin/env bash
# Make our Voila template and the fast GRU ready in an environment; shared by `make install` and Binder's postBuild.
# Usage: scripts/install_voila_template.sh PREFIX PYTHON
#   PREFIX  the environment's prefix (a venv, or conda's): Voila finds templates under PREFIX/share/jupyter
#   PYTHON  that environment's python
set -euo pipefail
prefix=$1
python=$2
root=$(cd "$(dirname "$0")/.." && pwd)
template="$root/share/jupyter/voila/templates/grulab"
# the template (Font Awesome served locally, the 'class is full' page) where Voila looks for templates
mkdir -p "$prefix/share/jupyter/voila/templates"
ln -sfn "$template" "$prefix/share/jupyter/voila/templates/grulab"
# plotly's 5 MB widget bundle as a static file of the template: fetched once and cached by the browser
# (a copy: Voila's static handler refuses symlinks that leave the template folder), made quiet for our widgets
"$python" -c 'from grutools.apps.common import install_bundle; install_bundle()'
# compile the fused CPU GRU now (about 20 s) rather than in a student's first dashboard
"$python" -m grutools build
