#!/usr/bin/env bash
# The whole check, as CI runs it: install what is missing, then lint, types, the front end's types,
# and every test (Python, Chromium module tests, JupyterLab and Notebook 7 end to end, notebooks).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-browser
echo "== ruff";   ruff check .
echo "== mypy";   mypy
echo "== imports"; PYTHONPATH=src lint-imports --no-cache   # layers and no import circles (pyproject.toml)
echo "== tsc";    npm run --silent typecheck
echo "== js imports"; npm run --silent deps   # dependency-cruiser: no circles in js/ (.dependency-cruiser.cjs)
# Two workers (CI has 2 cores), whole modules per worker: a browser module starts its own Chromium, a Jupyter
# module its own server, and module fixtures (figures) stay whole. The figures and the test count still print.
echo "== pytest"; python -m pytest -n 2 --dist loadfile "$@"
