#!/usr/bin/env bash
# Set everything up, run the quick-start simulation (prints a metrics table, writes a plot),
# then serve the pages of apps/ in the browser: the recommender page at http://localhost:8765/,
# Schelling at /schelling (Ctrl-C stops it).
#   --check (or MESA_RECSYS_NO_SERVE=1): instead of serving forever, start the page's server,
#   fetch the pages and their front-end files, stop it and exit (for scripts and CI).
# Other arguments go to examples/quickstart.py. HOST and PORT choose where the page is served.
set -euo pipefail
cd "$(dirname "$0")/.."
serve_args=() quick_args=()
for arg in "$@"; do
  if [ "$arg" = --check ]; then serve_args+=(--check); else quick_args+=("$arg"); fi
done
bash tools/setup.sh
.venv/bin/python examples/quickstart.py "${quick_args[@]}"
exec bash tools/serve.sh all "${serve_args[@]}"
