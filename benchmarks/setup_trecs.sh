#!/usr/bin/env bash
# Optional: make .venv-trecs with T-RECS 0.2.1 for the side-by-side benchmark columns.
# T-RECS needs numpy<2 and lenskit 0.14, hence its own environment and a Python 3.11.
set -euo pipefail
cd "$(dirname "$0")/.."
ok311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; }
if [ -x .venv-trecs/bin/python ] && .venv-trecs/bin/python -c "import trecs" 2>/dev/null; then
  echo "T-RECS environment ready: .venv-trecs"; exit 0
fi
PY=""
for c in python3.11 python3; do command -v "$c" >/dev/null && ok311 "$c" && { PY=$(command -v "$c"); break; }; done
if [ -z "$PY" ] && command -v pyenv >/dev/null; then
  for c in "$(pyenv root)"/versions/3.11*/bin/python3; do ok311 "$c" && { PY=$c; break; }; done
fi
[ -n "$PY" ] || { echo "No Python 3.11 found for T-RECS; the benchmark will skip its columns" >&2; exit 1; }
"$PY" -m venv .venv-trecs
.venv-trecs/bin/pip install --quiet "numpy<2" scipy networkx tqdm "pandas<2" "lenskit==0.14.*"
.venv-trecs/bin/pip install --quiet --no-deps trecs==0.2.1
.venv-trecs/bin/python -c "import trecs; print('T-RECS environment ready: .venv-trecs')"
