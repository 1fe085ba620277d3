#!/usr/bin/env bash
# Serve Few-Shot Lab to many users from one machine: N Streamlit replicas on loopback behind
# nginx (websocket upgrade, sticky sessions, upload size limit: deploy/nginx.conf.in).
#
#   bash deploy/serve.sh                      # 2 replicas, proxy on http://127.0.0.1:8080
#   REPLICAS=4 LISTEN=0.0.0.0:80 bash deploy/serve.sh
#
# Run one replica per CPU core: model work holds a core. Needs nginx (Debian:
# apt-get install nginx) and the app's .venv (bash run.sh once, or scripts/setup.sh).
# Ctrl-C (or SIGTERM) stops nginx and every replica. See SECURITY.md, "Serving many users".
set -euo pipefail
cd "$(dirname "$0")/.."
replicas=${REPLICAS:-2}
listen=${LISTEN:-127.0.0.1:8080}
first_port=${FIRST_PORT:-8501}  # replicas listen on first_port, first_port + 1, ...
run=${RUN_DIR:-$(mktemp -d -t fewshot-serve-XXXXXX)}
nginx=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
python=${PYTHON:-.venv/bin/python}
[ -x "$nginx" ] || { echo "nginx not found (Debian: apt-get install nginx)" >&2; exit 2; }
[ -x "$python" ] || { echo "$python not found: run 'bash scripts/setup.sh' first" >&2; exit 2; }
case $replicas in '' | *[!0-9]* | 0) echo "REPLICAS must be >= 1, got '$replicas'" >&2; exit 2 ;; esac
mkdir -p "$run"
# nginx's workers (user nobody when started as root) keep request bodies over 16 KB, such as a
# photo being uploaded, and the page-file cache in folders nginx makes in here: they must be
# able to pass through it (mktemp makes it owner-only).
chmod 711 "$run"

# Every replica signs XSRF cookies with the same secret, so a token minted by one is valid at
# another (a browser is sticky, but a restarted replica set must not log everyone out).
secret=${COOKIE_SECRET:-$("$python" -c "import secrets; print(secrets.token_hex(32))")}
pids=()
stop() {
  trap - EXIT INT TERM
  [ -f "$run/nginx.pid" ] && kill "$(cat "$run/nginx.pid")" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

servers=""
for ((i = 0; i < replicas; i++)); do
  port=$((first_port + i))
  STREAMLIT_SERVER_COOKIE_SECRET=$secret "$python" -m streamlit run app.py \
    --server.headless true --server.address 127.0.0.1 --server.port "$port" \
    --server.fileWatcherType none \
    --browser.gatherUsageStats false > "$run/replica-$port.log" 2>&1 &
  pids+=($!)
  servers+="        server 127.0.0.1:$port;"$'\n'
done
sed -e "s|@RUN@|$run|g" -e "s|@LISTEN@|$listen|g" deploy/nginx.conf.in |
  awk -v servers="${servers%$'\n'}" '{ if ($0 == "@SERVERS@") print servers; else print }' \
  > "$run/nginx.conf"
"$nginx" -t -q -c "$run/nginx.conf" -p "$run" 2>"$run/nginx-check.log" ||
  { cat "$run/nginx-check.log" >&2; exit 1; }

for ((i = 0; i < replicas; i++)); do  # each replica answers its health check
  port=$((first_port + i))
  for _ in $(seq 120); do
    "$python" -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:$port/_stcore/health', timeout=2).read() != b'ok')" 2>/dev/null && break
    kill -0 "${pids[$i]}" 2>/dev/null || { cat "$run/replica-$port.log" >&2; exit 1; }
    sleep 0.5
  done
done
"$nginx" -c "$run/nginx.conf" -p "$run" -g "daemon off;" &
pids+=($!)
echo "Few-Shot Lab: http://$listen ($replicas replicas; logs in $run)"
wait -n "${pids[@]}"  # one of them stopped: stop the rest
