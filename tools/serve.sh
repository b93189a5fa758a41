#!/usr/bin/env bash
# Set everything up, then serve a SolaraViz page of apps/ in the browser (offline: the front end
# comes from the installed solara-assets, no CDN).
#   bash tools/serve.sh [recsys|schelling] [--check]
# Serves http://$HOST:$PORT/ (defaults 0.0.0.0:8765; open http://localhost:8765/) until Ctrl-C.
# --check (or MESA_RECSYS_NO_SERVE=1): run the page's module once, start the server on 127.0.0.1,
# fetch the page and the front-end files it names, stop the server and exit 0 (non-zero if any
# of that fails). The full check in a browser is tests/test_apps.py (Chromium + Playwright).
set -euo pipefail
cd "$(dirname "$0")/.."
app=recsys check=${MESA_RECSYS_NO_SERVE:-0}
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    recsys|schelling) app=$arg ;;
    *) echo "usage: bash tools/serve.sh [recsys|schelling] [--check]" >&2; exit 2 ;;
  esac
done
bash tools/setup.sh
export SOLARA_TELEMETRY_MIXPANEL_ENABLE=false
if [ "$check" != 1 ]; then
  echo "Serving apps/$app.py on http://${HOST:-0.0.0.0}:${PORT:-8765}/ (Ctrl-C stops it)"
  exec .venv/bin/solara run "apps/$app.py" --production --host "${HOST:-0.0.0.0}" --port "${PORT:-8765}"
fi

# the page's module runs (builds its model and the SolaraViz element) ...
.venv/bin/python -c 'import runpy, sys; runpy.run_path(sys.argv[1], run_name="serve_check")' "apps/$app.py"
# ... and its server answers with the page and the page's front-end files from the venv
port=${PORT:-$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
mkdir -p output
log=output/serve_check_$app.log
.venv/bin/solara run "apps/$app.py" --production --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
.venv/bin/python - "$port" "$app" "$pid" <<'PY'
import os, sys, time, urllib.request
port, app, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = f"http://127.0.0.1:{port}"
deadline = time.monotonic() + 240
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"solara run apps/{app}.py exited; see output/serve_check_{app}.log")
    try:
        with urllib.request.urlopen(base + "/", timeout=5) as r:
            page = r.read().decode()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(f"apps/{app}.py: no answer on {base}/ within 240 s")
        time.sleep(0.5)
assert "solara" in page.lower(), page[:500]
# the front-end files the page names must come from the installed solara-assets, not a CDN
import re
assets = sorted(set(re.findall(r'/_solara/cdn/[^"' + "'" + r' >]+', page)))
assert assets, "the page names no /_solara/cdn/ file"
for asset in assets:
    with urllib.request.urlopen(base + asset, timeout=30) as r:
        assert r.status == 200 and r.read(), asset
print(f"apps/{app}.py serves on {base}/: page {len(page)} bytes, {len(assets)} front-end files "
      "served from the venv: OK")
PY
