#!/usr/bin/env bash
# Set everything up, then serve the SolaraViz pages of apps/ in the browser (offline: the front
# end comes from the installed solara-assets, no CDN).
#   bash tools/serve.sh [all|recsys|schelling] [--check]
# all (the default): `solara run apps`, every page with tabs at the top: the recommender page at
# /, Schelling at /schelling. recsys or schelling: that page alone (`solara run apps/<page>.py`).
# Serves http://$HOST:$PORT/ (defaults 0.0.0.0:8765; open http://localhost:8765/) until Ctrl-C.
# --check (or MESA_RECSYS_NO_SERVE=1): run the pages' modules once, start the server on
# 127.0.0.1, fetch the pages and the front-end files they name, stop the server and exit 0
# (non-zero if any of that fails). The full check in a browser is tests/test_apps.py.
set -euo pipefail
cd "$(dirname "$0")/.."
app=all check=${MESA_RECSYS_NO_SERVE:-0}
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    all|recsys|schelling) app=$arg ;;
    *) echo "usage: bash tools/serve.sh [all|recsys|schelling] [--check]" >&2; exit 2 ;;
  esac
done
if [ "$app" = all ]; then
  target=apps pages="recsys schelling" paths="/ /schelling"
else
  target=apps/$app.py pages=$app paths=/
fi
bash tools/setup.sh
export SOLARA_TELEMETRY_MIXPANEL_ENABLE=false
if [ "$check" != 1 ]; then
  echo "Serving $target on http://${HOST:-0.0.0.0}:${PORT:-8765}/ (Ctrl-C stops it)"
  exec .venv/bin/solara run "$target" --production --host "${HOST:-0.0.0.0}" --port "${PORT:-8765}"
fi

# the pages' modules run (each builds its model and the SolaraViz element) ...
for page in $pages; do
  .venv/bin/python -c 'import runpy, sys; runpy.run_path(sys.argv[1], run_name="serve_check")' "apps/$page.py"
done
# ... and the server answers with the pages and their front-end files from the venv
port=${PORT:-$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
mkdir -p output
log=output/serve_check_$app.log
.venv/bin/solara run "$target" --production --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
.venv/bin/python - "$port" "$target" "$pid" "$log" $paths <<'PY'
import os, re, sys, time, urllib.request
port, target, pid, log, paths = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
base = f"http://127.0.0.1:{port}"

def get(path):
    with urllib.request.urlopen(base + path, timeout=30) as r:
        assert r.status == 200, (path, r.status)
        return r.read().decode("utf-8", "replace")

deadline = time.monotonic() + 240
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"solara run {target} exited; see {log}")
    try:
        get(paths[0])
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(f"{target}: no answer on {base}/ within 240 s")
        time.sleep(0.5)
for path in paths:
    page = get(path)
    assert "solara" in page.lower(), page[:500]
    # the front-end files the page names must come from the installed solara-assets, no CDN
    assets = sorted(set(re.findall(r"/_solara/cdn/[^\"' >]+", page)))
    assert assets, f"{path}: the page names no /_solara/cdn/ file"
    for asset in assets:
        assert get(asset), asset
    print(f"{target}: {base}{path} serves ({len(page)} bytes, {len(assets)} front-end files "
          "from the venv): OK")
PY
