#!/usr/bin/env bash
# Records the per-session captures 17-21 (see ../lab-manifest.json and ../README.md): MQTT 3.1.1
# sessions of Alibaba-style devices (paho-mqtt 1.6.1, logins from session_lab.py) whose interest is
# the session itself: an abrupt end with RST, an unacknowledged PUBLISH and a refused filter, a
# keep-alive violation, one device on two connections, QoS 2 / retain / will.
# Everything runs inside a private network namespace (its own loopback, 127.0.0.1:1883), so no
# traffic leaves it and the host's port 1883 is not used; dumpcap captures that namespace's lo
# with the filter 'tcp port 1883'.  Brokers: mosquitto 2 (17, 21) and sessionbroker.py (18-20).
#   17  mosquitto is frozen (SIGSTOP) while the device sends a QoS 0 and a QoS 1 PUBLISH (its kernel
#       still ACKs them at TCP level), then killed (SIGKILL): it dies with those bytes unread in its
#       socket, so its kernel resets the connection (RST from the broker side), no DISCONNECT.
#   19  the device process is frozen (SIGSTOP) for 55 s with keep-alive 30, then resumed.
# Needs: root (ip netns, dumpcap), mosquitto, dumpcap, python3 with venv; PyPI (or LAB_ENV=<dir>
# holding venv/ with paho-mqtt 1.6.1 from an earlier run).  Takes about 1.5 minutes.
# Usage: session-record.sh [output dir]   (default: tests/captures)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(dirname "$here")}
tmp=$(mktemp -d); chmod 755 "$tmp"
ns=aliiot-session-$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

env=${LAB_ENV:-$tmp/env}
if [ ! -x "$env/venv/bin/python" ] || ! "$env/venv/bin/python" -c 'import paho.mqtt' 2>/dev/null; then
  mkdir -p "$env"
  python3 -m venv "$env/venv"
  "$env/venv/bin/pip" install -q paho-mqtt==1.6.1
fi
PY="$env/venv/bin/python"
export PYTHONPATH="$here" PYTHONDONTWRITEBYTECODE=1 LAB_SYNC="$tmp/sync"
mkdir -p "$LAB_SYNC"

ip netns add "$ns"
ip -n "$ns" link set lo up
inns=(ip netns exec "$ns")   # ip execs the command, so $! is the command's own pid (no subshell)

printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\n' >"$tmp/mosquitto.conf"
chmod 644 "$tmp/mosquitto.conf"   # mosquitto drops root privileges

start_broker() {   # mosquitto | sessionbroker; sets $br
  if [ "$1" = mosquitto ]; then "${inns[@]}" mosquitto -c "$tmp/mosquitto.conf" 2>>"$tmp/broker.log" & br=$!
  else "${inns[@]}" "$PY" "$here/sessionbroker.py" 2>>"$tmp/broker.log" & br=$!; fi
  pids+=("$br"); sleep 0.7
}
stop_broker() { kill "$br" 2>/dev/null || true; wait "$br" 2>/dev/null || true; sleep 0.3; }
start_capture() { "${inns[@]}" dumpcap -q -i lo -f "tcp port 1883" -w "$tmp/$1" 2>/dev/null & dp=$!; pids+=("$dp"); sleep 1.5; }
stop_capture() { sleep 1; kill -INT "$dp"; wait "$dp" 2>/dev/null || true; install -m 644 "$tmp/$1" "$out/$1"; echo "wrote $out/$1"; }
wait_for() { for _ in $(seq 600); do [ -e "$LAB_SYNC/$1" ] && return 0; sleep 0.1; done; echo "timeout: $1" >&2; exit 1; }
# (background commands are started in place, not from inside a function called with '&', so that
#  $! is the pid that SIGSTOP/SIGKILL/SIGINT must reach)

# 17: abrupt end - broker frozen, then killed with the in-flight PUBLISHes unread -> RST
start_broker mosquitto
start_capture 17-abrupt-end-rst.pcapng
"${inns[@]}" "$PY" "$here/session_devices.py" abrupt 2>>"$tmp/device.log" & dev=$!; pids+=("$dev")
wait_for abrupt.ready; sleep 0.3
kill -STOP "$br"; touch "$LAB_SYNC/abrupt.frozen"
wait_for abrupt.sent; sleep 1.0
kill -KILL "$br"; wait "$br" 2>/dev/null || true
wait "$dev" || true
stop_capture 17-abrupt-end-rst.pcapng

# 18: QoS 1 PUBLISH never acknowledged, refused SUBSCRIBE filter, UNSUBSCRIBE, PINGREQ, DISCONNECT
start_broker sessionbroker
start_capture 18-unacked-and-refused.pcapng
"${inns[@]}" "$PY" "$here/session_devices.py" refused 2>>"$tmp/device.log" & dev=$!; pids+=("$dev"); wait "$dev"
stop_capture 18-unacked-and-refused.pcapng

# 19: keep-alive 30 s, device frozen for 55 s (> 1.5 x 30 s), then back
start_capture 19-keepalive-violation.pcapng
"${inns[@]}" "$PY" "$here/session_devices.py" keepalive 2>>"$tmp/device.log" & dev=$!; pids+=("$dev")
wait_for keepalive.ready; sleep 0.5
kill -STOP "$dev"; sleep 55; touch "$LAB_SYNC/keepalive.resumed"; kill -CONT "$dev"
wait "$dev"
stop_capture 19-keepalive-violation.pcapng

# 20: same device on two overlapping connections; the broker closes the older one
start_capture 20-same-device-twice.pcapng
"${inns[@]}" "$PY" "$here/session_devices.py" twice 2>>"$tmp/device.log" & dev=$!; pids+=("$dev"); wait "$dev"
stop_capture 20-same-device-twice.pcapng
stop_broker

# 21: will, QoS 2 flow, retained PUBLISHes (mosquitto)
start_broker mosquitto
start_capture 21-qos2-retain-will.pcapng
"${inns[@]}" "$PY" "$here/session_devices.py" qos2 2>>"$tmp/device.log" & dev=$!; pids+=("$dev"); wait "$dev"
stop_capture 21-qos2-retain-will.pcapng
stop_broker

echo "--- broker log"; cat "$tmp/broker.log"; echo "--- device log"; cat "$tmp/device.log"
