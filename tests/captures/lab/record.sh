#!/usr/bin/env bash
# Records captures 10-16 (see ../lab-manifest.json and ../README.md): Alibaba Cloud IoT MQTT traffic
# of real device SDKs (npm alibabacloud-iot-device-sdk 1.2.8, PyPI aliyun-iot-linkkit 1.2.13) and of
# lab-written clients, against a local mosquitto on 127.0.0.1:1883; the cloud side is cloud.py
# (on a second, uncaptured listener 127.0.0.1:11884) or, for dynamic registration, dynreg_broker.py.
# Only the device <-> broker TCP streams on port 1883 are captured.
# Needs: mosquitto, dumpcap (root or the wireshark group), node/npm, python3 (venv), network access
# to the npm registry and PyPI (or LAB_ENV=<dir> holding venv/ and node_modules/ from an earlier run).
# Port 1883 and 11884 must be free.  Usage: record.sh [output dir]   (default: tests/captures)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(dirname "$here")}
tmp=$(mktemp -d); chmod 755 "$tmp"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

env=${LAB_ENV:-$tmp/env}
if [ ! -x "$env/venv/bin/python" ] || [ ! -d "$env/node_modules/alibabacloud-iot-device-sdk" ]; then
  mkdir -p "$env"
  python3 -m venv "$env/venv"
  "$env/venv/bin/pip" install -q -r "$here/requirements.txt"
  cp "$here/package.json" "$env/"
  (cd "$env" && npm install --silent --no-audit --no-fund >/dev/null)
fi
PY="$env/venv/bin/python"
export NODE_PATH="$env/node_modules" PYTHONPATH="$here" PYTHONDONTWRITEBYTECODE=1

printf 'listener 1883 127.0.0.1\nlistener 11884 127.0.0.1\nallow_anonymous true\n' >"$tmp/mosquitto.conf"
chmod 644 "$tmp/mosquitto.conf"   # mosquitto drops root privileges

# broker: mosquitto, or minibroker.py where the platform must not echo (RRPC) or must push unsolicited
# messages and check logins (dynamic registration); cloud.py answers as the platform in both cases
start_broker() {
  if [ "$1" = mosquitto ]; then mosquitto -c "$tmp/mosquitto.conf" 2>>"$tmp/broker.log" & br=$!
  else "$PY" "$here/minibroker.py" 2>>"$tmp/broker.log" & br=$!; fi
  pids+=("$br"); sleep 0.7
  "$PY" "$here/cloud.py" 2>>"$tmp/cloud.log" & pf=$!; pids+=("$pf"); sleep 0.8
}
stop_broker() { kill "$pf" "$br"; wait "$pf" "$br" 2>/dev/null || true; sleep 0.3; }

# capture NAME CMD...: dumpcap on lo, tcp port 1883, around one command
capture() {
  local name=$1; shift
  dumpcap -q -i lo -f "tcp port 1883" -w "$tmp/$name" 2>/dev/null & local dp=$!; pids+=("$dp"); sleep 1.5
  "$@"
  sleep 1
  kill -INT "$dp"; wait "$dp" 2>/dev/null || true
  cp "$tmp/$name" "$out/$name"
  echo "wrote $out/$name"
}

start_broker mosquitto
capture 10-gateway-subdevices-nodesdk.pcapng node "$here/gw_node.js"
capture 11-gateway-batch-login-linkkit.pcapng "$PY" "$here/gw_linkkit.py"
capture 13-ntp-ota-linkkit.pcapng "$PY" "$here/ota_ntp_linkkit.py"
capture 15-binary-upraw-file-download.pcapng "$PY" "$here/binary_linkkit.py"
capture 16-alink-quirks.pcapng "$PY" "$here/quirks_device.py"
stop_broker
start_broker minibroker
capture 12-dynreg-mqtt-linkkit.pcapng "$PY" "$here/dynreg_linkkit.py"
capture 14-rrpc-ext-services-linkkit.pcapng "$PY" "$here/rrpc_linkkit.py"
stop_broker
