#!/usr/bin/env bash
# Make .venv-trecs: T-RECS 0.2.1 in its own environment, for the T-RECS columns of
# benchmarks/bench_engine.py. Optional: the benchmark runs without it.
#
# T-RECS 0.2.1 needs numpy<2, pandas<2 and lenskit 0.14, which want a Python 3.11, so the
# environment is made with the first Python 3.11 found among: python3.11, python3, and
# pyenv's $(pyenv root)/versions/3.11*. Running it again does nothing once the environment
# imports trecs 0.2.1; a half-made environment is rebuilt.
#
# Usage: bash benchmarks/setup_trecs.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-trecs
TRECS_VERSION=0.2.1

is_311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; }
has_trecs() {
  "$VENV/bin/python" -c "import importlib.metadata as m, trecs; \
assert m.version('trecs') == '$TRECS_VERSION'" >/dev/null 2>&1
}

if [ -x "$VENV/bin/python" ] && has_trecs; then
  echo "T-RECS $TRECS_VERSION already installed in $VENV"
  exit 0
fi

python311=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && is_311 "$candidate"; then
    python311=$(command -v "$candidate")
    break
  fi
done
if [ -z "$python311" ] && command -v pyenv >/dev/null 2>&1; then
  for candidate in "$(pyenv root)"/versions/3.11*/bin/python3.11; do
    if [ -x "$candidate" ] && is_311 "$candidate"; then
      python311=$candidate
      break
    fi
  done
fi
if [ -z "$python311" ]; then
  echo "setup_trecs.sh: no Python 3.11 found (python3.11, python3, pyenv 3.11.*);" \
    "the benchmark will run without T-RECS columns" >&2
  exit 1
fi

echo "Making $VENV with $python311 ($("$python311" --version 2>&1))"
"$python311" -m venv --clear "$VENV"
"$VENV/bin/python" -m pip install --quiet "numpy<2" scipy networkx tqdm "pandas<2" "lenskit==0.14.*"
"$VENV/bin/python" -m pip install --quiet --no-deps "trecs==$TRECS_VERSION"
if ! has_trecs; then
  echo "setup_trecs.sh: $VENV was made but cannot import trecs $TRECS_VERSION" >&2
  exit 1
fi
echo "T-RECS $TRECS_VERSION installed in $VENV"
