#!/usr/bin/env bash
# Set everything up, then run the quick-start simulation (prints a metrics table, writes a plot).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
exec .venv/bin/python examples/quickstart.py "$@"
