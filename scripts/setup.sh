#!/usr/bin/env bash
# Installs everything the demo and the tests need on a fresh machine; quick when it is all there already.
# System packages: Node.js + npm (to build the front end) and Debian's Chromium (browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need_apt=()
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null 2>&1; then need_apt+=(chromium); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} with apt-get"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Front end: TypeScript → src/image_widget/static/ (not committed). Rebuilt when a source is newer.
# npm ci again when the lockfile is newer than the install (a new devDependency, e.g. vitest).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
bundle=src/image_widget/static/widget.js
if [ ! -f "$bundle" ] || [ -n "$(find js package.json -newer "$bundle" -print -quit)" ]; then
  npm run --silent build
fi

# Python package (editable): with the notebooks extra (what the demo notebooks import, and JupyterLab), or
# with the test extra for the tests. The bundle exists, so the build hook skips npm.
extra="[notebooks]"
[ "${1:-}" = "--with-browser" ] && extra="[test]"
if ! python -c "import image_widget, anywidget, openai, numpy, pandas, jupyterlab" >/dev/null 2>&1 \
   || [ "$extra" = "[test]" ]; then
  python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e ".${extra}"
fi
