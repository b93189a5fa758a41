#!/usr/bin/env bash
# Set up .venv with Python >= 3.12 and the project installed (editable, with dev tools).
# Safe to run again: it reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }

find_python() {
  local c
  for c in "${PYTHON:-}" python3.14 python3.13 python3.12 python3; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && ok "$c" && { command -v "$c"; return; }
  done
  local roots=("${PYENV_ROOT:-}" "$HOME/.pyenv" /root/.pyenv /opt/pyenv)
  if command -v pyenv >/dev/null 2>&1; then roots=("$(pyenv root)" "${roots[@]}"); fi
  for r in "${roots[@]}"; do
    [ -n "$r" ] && [ -d "$r/versions" ] || continue
    for c in $(ls -d "$r"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
      ok "$c" && { echo "$c"; return; }
    done
  done
  for c in /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    [ -x "$c" ] && ok "$c" && { echo "$c"; return; }
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! ok .venv/bin/python; then
  PY=$(find_python) || { echo "mesa_recsys needs Python >= 3.12 and none was found (set PYTHON=/path/to/python3.12)" >&2; exit 1; }
  echo "Using $PY ($("$PY" --version))"
  rm -rf .venv
  "$PY" -m venv .venv
fi

stamp=.venv/.setup-stamp
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  echo "$want" > "$stamp"
fi
