#!/usr/bin/env bash
# Records the thing-model captures (see ../lab-manifest.json): devices of real SDKs sending values
# that break their product's thing model, against a local mosquitto on 127.0.0.1:1883; the
# platform side is tsl_cloud.py on a second, uncaptured listener 127.0.0.1:11884. Only the
# device <-> broker streams on port 1883 are captured.
#   36-tsl-linkkit-violations.pcapng  PyPI aliyun-iot-linkkit 1.2.13 (tsl_linkkit.py) with the model
#                                     tests/tsl/lab/thermostat.json
#   38-tsl-dsltemplate-linkkit.pcapng PyPI linkkit (tsl_template_linkkit.py) downloads its model on
#                                     thing/dsltemplate/get; posts before and after it
#   39-tsl-temperature-series.pcapng  PyPI linkkit (tsl_series_linkkit.py): 30 s of temperature
#                                     posts for the README's I/O Graph (make gui-check)
#   40-property-time-linkkit.pcapng   PyPI linkkit (tsl_timed_linkkit.py): properties posted as
#                                     {"value": v, "time": ms}
#   37-tsl-c-sdk3-dynamictsl.pcapng   with C_SDK_TSL_BIN: Alibaba's C SDK 3.x (iotkit-embedded,
#                                     built with FEATURE_DEPRECATED_LINKKIT) whose device program
#                                     C_SDK_TSL_BIN/tsl-lab starts linkkit with get_tsl_from_cloud,
#                                     so the SDK asks for its model on thing/dynamicTsl/get (its
#                                     only way: it never calls its dsltemplate request); the
#                                     platform answers with tests/tsl/c-sdk-demo/a1RIsMLz2BJ.json
#                                     (lab-manifest.json lists what the program then sends). The
#                                     SDK dials a1RIsMLz2BJ.iot-as-mqtt.cn-shanghai.aliyuncs.com,
#                                     which must resolve to 127.0.0.1 (an /etc/hosts line).
# Needs: mosquitto, dumpcap (root or the wireshark group), python3 (venv with requirements.txt;
# LAB_ENV=<dir> holding venv/ from an earlier run of record.sh skips the install).
# Usage: [C_SDK_TSL_BIN=<dir>] tsl-record.sh [output dir]   (default: tests/captures)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=${1:-$(dirname "$here")}
tmp=$(mktemp -d); chmod 755 "$tmp"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

env=${LAB_ENV:-$tmp/env}
if [ ! -x "$env/venv/bin/python" ]; then
  mkdir -p "$env"
  python3 -m venv "$env/venv"
  "$env/venv/bin/pip" install -q -r "$here/requirements.txt"
fi
PY="$env/venv/bin/python"
export PYTHONPATH="$here" PYTHONDONTWRITEBYTECODE=1

printf 'listener 1883 127.0.0.1\nlistener 11884 127.0.0.1\nallow_anonymous true\n' >"$tmp/mosquitto.conf"
chmod 644 "$tmp/mosquitto.conf"
mosquitto -c "$tmp/mosquitto.conf" 2>>"$tmp/broker.log" & mq=$!; pids+=("$mq"); sleep 0.7

# capture NAME CMD...: a fresh platform, dumpcap on lo, tcp port 1883, around one command
capture() {
  local name=$1; shift
  "$PY" "$here/tsl_cloud.py" "a1B2c3D4e5F=$repo/tests/tsl/lab/thermostat.json" \
    "a1RIsMLz2BJ=$repo/tests/tsl/c-sdk-demo/a1RIsMLz2BJ.json" 2>>"$tmp/cloud.log" & local pf=$!; pids+=("$pf")
  sleep 0.8
  dumpcap -q -i lo -f "tcp port 1883" -w "$tmp/$name" 2>/dev/null & local dp=$!; pids+=("$dp"); sleep 1.5
  "$@"
  sleep 1
  kill -INT "$dp"; wait "$dp" 2>/dev/null || true
  kill "$pf"; wait "$pf" 2>/dev/null || true
  cp "$tmp/$name" "$out/$name"
  echo "wrote $out/$name"
}

capture 36-tsl-linkkit-violations.pcapng "$PY" "$here/tsl_linkkit.py" "$repo/tests/tsl/lab/thermostat.json"
capture 38-tsl-dsltemplate-linkkit.pcapng "$PY" "$here/tsl_template_linkkit.py"
capture 39-tsl-temperature-series.pcapng "$PY" "$here/tsl_series_linkkit.py" "$repo/tests/tsl/lab/thermostat.json"
capture 40-property-time-linkkit.pcapng "$PY" "$here/tsl_timed_linkkit.py" "$repo/tests/tsl/lab/thermostat.json"
if [ -n "${C_SDK_TSL_BIN:-}" ]; then
  capture 37-tsl-c-sdk3-dynamictsl.pcapng "$C_SDK_TSL_BIN/tsl-lab"
fi
cat "$tmp/cloud.log" >&2
