#!/usr/bin/env bash
# Records the transport captures 22-27 (see ../lab-manifest.json and ../README.md): every way a device
# reaches the platform, each an Alibaba-login MQTT 3.1.1 session (CONNECT/CONNACK, SUBSCRIBE
# post_reply, QoS 1 property post answered by the platform's post_reply, DISCONNECT) or a non-MQTT
# look-alike:
#   22  MQTT over TLS on TCP 1883            paho-mqtt 1.6.1, key log by Python's SSLContext.keylog_filename
#   23  MQTT over ws://127.0.0.1:80/mqtt     paho-mqtt 1.6.1 (one MQTT packet per WebSocket frame)
#   23b the same with npm mqtt (mqtt.js) 5.10.1, which writes each MQTT packet as several small frames
#   24  MQTT over wss://127.0.0.1:443/mqtt   paho-mqtt 1.6.1, Python key log
#   24b the same with npm mqtt 5.10.1 under node --tls-keylog (several frames per MQTT packet)
#   25  MQTT over ws:// port 80, an MQTT packet split over WebSocket frames / messages and two MQTT
#       packets in one frame                  lab-written raw WebSocket client ws_raw_device.py
#   26  plain HTTPS on 443 (curl -> https_server.py), key log by curl's SSLKEYLOGFILE
#   27  a TCP connection to 1883 whose only client payload is 16 03 01 00 05 'ABCDE' (tls_probe.py)
# Broker for 22-25: mosquitto 2.0.11 with listeners 1883 (TLS), 80 (websockets), 443 (websockets +
# TLS) and a plain 127.0.0.1:11884 for the platform stand-in transport_platform.py (not captured).
# TLS uses a CA and a server certificate (EC P-256, SAN IP:127.0.0.1) made afresh by openssl at each
# run.  The key logs are copied next to the captures AND embedded in them (editcap --inject-secrets).
# Everything runs inside a private network namespace (its own loopback): no traffic leaves it and the
# host's ports 80, 443, 1883 are never bound.  dumpcap captures that namespace's lo, one port per file.
# Needs: root (ip netns, dumpcap), mosquitto (with websockets), dumpcap, editcap, openssl, curl,
# python3 with venv, node + npm; PyPI and the npm registry (or LAB_ENV=<dir> holding venv/ with
# paho-mqtt 1.6.1 and node/node_modules/mqtt from an earlier run).  Takes about half a minute.
# Usage: transport-record.sh [output dir]   (default: tests/captures); then
#        transport_manifest.py [output dir] refreshes the lab-manifest.json entries of 22-27.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(dirname "$here")}
tmp=$(mktemp -d); chmod 755 "$tmp"
ns=aliiot-transport-$$
pids=()
cleanup() {
  rc=$?
  if [ "$rc" != 0 ]; then for f in "$tmp"/*.log; do echo "--- $f" >&2; cat "$f" >&2; done; fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

env=${LAB_ENV:-$tmp/env}
mkdir -p "$env"
if [ ! -x "$env/venv/bin/python" ] || ! "$env/venv/bin/python" -c 'import paho.mqtt' 2>/dev/null; then
  python3 -m venv "$env/venv"
  "$env/venv/bin/pip" install -q paho-mqtt==1.6.1
fi
if [ ! -d "$env/node/node_modules/mqtt" ]; then
  mkdir -p "$env/node"
  printf '{"name":"aliiot-transport-lab","private":true}\n' >"$env/node/package.json"
  (cd "$env/node" && npm install --no-audit --no-fund --silent mqtt@5.10.1)
fi
PY="$env/venv/bin/python"
export PYTHONPATH="$here" PYTHONDONTWRITEBYTECODE=1 LAB_SYNC="$tmp/sync" NODE_PATH="$env/node/node_modules"
mkdir -p "$LAB_SYNC"

# --- certificates: lab CA + server certificate for 127.0.0.1 (EC P-256, small handshakes)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=aliiot lab CA" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tmp/ext.cnf"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial -days 3650 \
  -extfile "$tmp/ext.cnf" -out "$tmp/server.pem" 2>/dev/null
chmod 644 "$tmp"/*.pem "$tmp"/*.key   # mosquitto drops root privileges

ip netns add "$ns"
ip -n "$ns" link set lo up
inns=(ip netns exec "$ns")   # ip execs the command, so $! is the command's own pid
# mosquitto opens its websockets listeners (libwebsockets) only after dropping root privileges, so
# ports 80 and 443 must be bindable by an unprivileged user - in this namespace only (per-netns sysctl)
"${inns[@]}" sysctl -q -w net.ipv4.ip_unprivileged_port_start=0

cat >"$tmp/mosquitto.conf" <<CONF
per_listener_settings false
allow_anonymous true
persistence false
# platform stand-in (not captured)
listener 11884 127.0.0.1
# 22: MQTT over TLS on the plain-MQTT port
listener 1883 127.0.0.1
certfile $tmp/server.pem
keyfile $tmp/server.key
# 23, 25: MQTT over WebSocket (websockets listeners cannot be bound to an address; the namespace has only lo)
listener 80
protocol websockets
# 24: MQTT over TLS WebSocket
listener 443
protocol websockets
certfile $tmp/server.pem
keyfile $tmp/server.key
CONF
chmod 644 "$tmp/mosquitto.conf"

start_capture() { "${inns[@]}" dumpcap -q -i lo -f "$2" -w "$tmp/$1" 2>/dev/null & dp=$!; pids+=("$dp"); sleep 1.5; }
stop_capture() {   # name [keylog]: with a key log, embeds it (editcap --inject-secrets) and copies it
  sleep 1; kill -INT "$dp"; wait "$dp" 2>/dev/null || true
  if [ -n "${2:-}" ]; then
    editcap --inject-secrets "tls,$2" "$tmp/$1" "$tmp/$1.dsb"
    install -m 644 "$tmp/$1.dsb" "$out/$1"
    install -m 644 "$2" "$out/${1%.pcapng}.keylog"; echo "wrote $out/${1%.pcapng}.keylog"
  else
    install -m 644 "$tmp/$1" "$out/$1"
  fi
  echo "wrote $out/$1"
}
wait_for() { for _ in $(seq 300); do [ -e "$LAB_SYNC/$1" ] && return 0; sleep 0.1; done; echo "timeout: $1" >&2; exit 1; }

"${inns[@]}" mosquitto -c "$tmp/mosquitto.conf" 2>>"$tmp/broker.log" & br=$!; pids+=("$br"); sleep 0.8
"${inns[@]}" "$PY" "$here/transport_platform.py" 2>>"$tmp/platform.log" & pf=$!; pids+=("$pf")
wait_for platform.ready

# 22: MQTT over TLS on TCP 1883 (paho, Python key log)
start_capture 22-tls-on-1883.pcapng "tcp port 1883"
"${inns[@]}" "$PY" "$here/transport_paho_device.py" tls lab-sensor-22 1883 "$tmp/ca.pem" "$tmp/22.keylog" 2>>"$tmp/device.log"
stop_capture 22-tls-on-1883.pcapng "$tmp/22.keylog"

# 23: MQTT over ws://127.0.0.1:80/mqtt (paho)
start_capture 23-mqtt-over-ws.pcapng "tcp port 80"
"${inns[@]}" "$PY" "$here/transport_paho_device.py" ws lab-sensor-23 80 2>>"$tmp/device.log"
stop_capture 23-mqtt-over-ws.pcapng

# 23b: the same with mqtt.js
start_capture 23b-mqtt-over-ws-mqttjs.pcapng "tcp port 80"
LOGIN=$("$PY" "$here/transport_lab.py" login lab-sensor-23 3) \
  "${inns[@]}" node "$here/transport_ws_device.js" ws://127.0.0.1:80/mqtt 2>>"$tmp/device.log"
stop_capture 23b-mqtt-over-ws-mqttjs.pcapng

# 24: MQTT over wss://127.0.0.1:443/mqtt (paho, Python key log)
start_capture 24-mqtt-over-wss.pcapng "tcp port 443"
"${inns[@]}" "$PY" "$here/transport_paho_device.py" wss lab-sensor-24 443 "$tmp/ca.pem" "$tmp/24.keylog" 2>>"$tmp/device.log"
stop_capture 24-mqtt-over-wss.pcapng "$tmp/24.keylog"

# 24b: the same with mqtt.js (node --tls-keylog)
start_capture 24b-mqtt-over-wss-mqttjs.pcapng "tcp port 443"
LOGIN=$("$PY" "$here/transport_lab.py" login lab-sensor-24 2) \
  "${inns[@]}" node --tls-keylog="$tmp/24b.keylog" "$here/transport_ws_device.js" wss://127.0.0.1:443/mqtt "$tmp/ca.pem" 2>>"$tmp/device.log"
stop_capture 24b-mqtt-over-wss-mqttjs.pcapng "$tmp/24b.keylog"

# 25: ws:// port 80, MQTT packets split over / coalesced into WebSocket frames (raw WebSocket client)
start_capture 25-ws-split-and-coalesced.pcapng "tcp port 80"
"${inns[@]}" "$PY" "$here/ws_raw_device.py" lab-sensor-25 80 2>>"$tmp/device.log"
stop_capture 25-ws-split-and-coalesced.pcapng

kill "$pf" "$br"; wait "$pf" "$br" 2>/dev/null || true; sleep 0.3

# 26: plain HTTPS on 443 (Python https server, curl with SSLKEYLOGFILE)
"${inns[@]}" "$PY" "$here/https_server.py" "$tmp/server.pem" "$tmp/server.key" 443 2>>"$tmp/https.log" & hs=$!; pids+=("$hs"); sleep 0.8
start_capture 26-https-on-443.pcapng "tcp port 443"
SSLKEYLOGFILE="$tmp/26.keylog" "${inns[@]}" curl -sS --http1.1 --cacert "$tmp/ca.pem" -H 'Content-Type: application/json' \
  -d '{"productKey":"a1B2c3D4e5F","deviceName":"lab-sensor-26","clientId":"lab-sensor-26","signmethod":"hmacsha1","sign":"0000000000000000000000000000000000000000"}' \
  https://127.0.0.1:443/auth >>"$tmp/https.log"; echo >>"$tmp/https.log"
stop_capture 26-https-on-443.pcapng "$tmp/26.keylog"
kill "$hs"; wait "$hs" 2>/dev/null || true

# 27: 16 03 01 00 05 'ABCDE' then FIN on a TCP connection to 1883 (bare TCP listener, no broker)
"${inns[@]}" "$PY" "$here/tls_probe.py" server 1883 2>>"$tmp/probe.log" & ps_=$!; pids+=("$ps_"); sleep 0.5
start_capture 27-tls-looking-plain-mqtt.pcapng "tcp port 1883"
"${inns[@]}" "$PY" "$here/tls_probe.py" client 1883
wait "$ps_" || true
stop_capture 27-tls-looking-plain-mqtt.pcapng

for f in broker platform device https probe; do echo "--- $f log"; cat "$tmp/$f.log" 2>/dev/null || true; done
