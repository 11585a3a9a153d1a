#!/usr/bin/env bash
# Opens the quickstart notebook in JupyterLab. With no OPENAI_API_KEY the widget uses the built-in
# offline emulator (images are synthetic); with a key it talks to OpenAI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh   # the package with its notebooks extra: JupyterLab and what the notebooks import
root_flag=""; [ "$(id -u)" = 0 ] && root_flag="--allow-root"
exec jupyter lab notebooks/quickstart.ipynb --ip=127.0.0.1 $root_flag "$@"
