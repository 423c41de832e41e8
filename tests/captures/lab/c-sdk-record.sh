#!/usr/bin/env bash
# Records captures 30-35 (see ../lab-manifest.json): traffic of Alibaba's C SDK 3.x
# (aliyun/iotkit-embedded, plain TCP, its public demo device a1RIsMLz2BJ/example1) against a local
# mosquitto on 127.0.0.1:1883; the platform side is c_sdk_cloud.py on a second, uncaptured listener
# 127.0.0.1:11884. Only the device <-> broker streams on port 1883 are captured.
#
# The SDK is not part of this repository. C_SDK_BIN must name a folder holding
#   mqtt-example   the SDK's own MQTT example, unchanged
#   linkkit-lab    the SDK's linkkit solo example with its main loop replaced by the sequence
#                  lab-manifest.json lists for capture 31 (one of each device message; with the
#                  argument "cota" only a thing/config/get), its FOTA/COTA callbacks not
#                  downloading
# C_SDK_TLS_BIN and LAB_TLS (capture 34): the same SDK built with TLS (it then dials port 443 and
# offers RSA key exchange suites only), trusting LAB_TLS/ca.pem in place of the platform's root;
# LAB_TLS/server.pem and server.key (RSA, for the SDK's host name) serve TLS 1.2 on 127.0.0.1:443.
# The session keys come from the RSA key (tshark --export-tls-session-keys) and are embedded.
# LINK_SDK_BIN (capture 32) names a folder holding
#   mqtt-v5-lab    the Link SDK 4.1.0 mqtt_v5_basic_demo, pointed at 127.0.0.1:1883 over plain TCP,
#                  subscribing to its post_reply, its second post with id "2", disconnecting after
#                  3 s (lab-manifest.json lists what it sends)
#   mqtt-v5-assigned-lab  the same with use_assigned_clientid = 1 (capture 33)
#   data-model-lab the Link SDK 4.1.0 data_model_basic_demo over MQTT 3.1.1, plain TCP on 1883, its
#                  reply blocks enabled, main loop: property post, event post, desired get, 30 s,
#                  property post, disconnect (capture 35; behind minibroker.py, which subscribes
#                  a _ss=1 login to its system topics as the platform does)
# The SDK connects to {pk}.iot-as-mqtt.cn-shanghai.aliyuncs.com:1883: that name must resolve to
# 127.0.0.1 (an /etc/hosts line), so nothing leaves the machine.
# Needs: mosquitto, dumpcap (root or the wireshark group), python3 with paho-mqtt 1.6.1
# (PY=<python>). Usage: C_SDK_BIN=<dir> c-sdk-record.sh [output dir]   (default: tests/captures)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(dirname "$here")}
bin=${C_SDK_BIN:?C_SDK_BIN: the folder with mqtt-example and linkkit-lab}
PY=${PY:-python3}
host=a1RIsMLz2BJ.iot-as-mqtt.cn-shanghai.aliyuncs.com
if [ "$(getent hosts "$host" | awk '{print $1}')" != 127.0.0.1 ]; then
  echo "c-sdk-record.sh: $host must resolve to 127.0.0.1 (add it to /etc/hosts)" >&2
  exit 2
fi
tmp=$(mktemp -d); chmod 755 "$tmp"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

printf 'listener 1883 127.0.0.1\nlistener 11884 127.0.0.1\nallow_anonymous true\n' >"$tmp/mosquitto.conf"
if [ -n "${C_SDK_TLS_BIN:-}" ]; then
  # root: port 443; RSA key exchange, as the SDK offers
  printf 'user root\nlistener 443 127.0.0.1\ncafile %s/ca.pem\ncertfile %s/server.pem\nkeyfile %s/server.key\ntls_version tlsv1.2\nciphers AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA\n' \
    "$LAB_TLS" "$LAB_TLS" "$LAB_TLS" >>"$tmp/mosquitto.conf"
fi
chmod 644 "$tmp/mosquitto.conf"
mosquitto -c "$tmp/mosquitto.conf" 2>>"$tmp/broker.log" & mq=$!; pids+=($mq); sleep 0.7

# capture NAME CMD...: dumpcap on lo, tcp port 1883 (PORT), around the commands; a fresh platform
# each time
capture() {
  local name=$1; shift
  "$PY" "$here/c_sdk_cloud.py" ${CLOUD_ARGS:-} 2>>"$tmp/cloud.log" & local pf=$!; sleep 0.8
  dumpcap -q -i lo -f "tcp port ${PORT:-1883}" -w "$tmp/$name" 2>/dev/null & local dp=$!; sleep 1.5
  "$@"
  sleep 1
  kill -INT "$dp"; wait "$dp" 2>/dev/null || true
  kill "$pf"; wait "$pf" 2>/dev/null || true
  cp "$tmp/$name" "$out/$name"
  echo "wrote $out/$name"
}

# The stock MQTT example publishes on its user topic every 4 s until it is stopped: 10 s of it,
# then SIGTERM (the session ends without DISCONNECT, as when such a device loses power).
basic() { timeout 10 "$bin/mqtt-example" >"$tmp/basic.log" 2>&1 || true; }
# The lab driver: a first session with one of each message and the platform's calls, ended by
# DISCONNECT; a second session that asks for its remote configuration.
linkkit() {
  timeout 40 "$bin/linkkit-lab" >"$tmp/linkkit.log" 2>&1
  timeout 20 "$bin/linkkit-lab" cota >>"$tmp/linkkit.log" 2>&1
}
capture 30-c-sdk3-mqtt-basic.pcapng basic
capture 31-c-sdk3-linkkit.pcapng linkkit
if [ -n "${LINK_SDK_BIN:-}" ]; then
  # Link SDK 4.1.0 over MQTT 5: topic aliases, a Response Topic and Correlation Data on each post.
  v5() { timeout 20 "$LINK_SDK_BIN/mqtt-v5-lab" >"$tmp/v5.log" 2>&1; }
  capture 32-link-sdk41-mqtt5.pcapng v5
  # The same in the SDK's "assigned client id" mode: an empty client id prefix, signed as such.
  v5_assigned() { timeout 20 "$LINK_SDK_BIN/mqtt-v5-assigned-lab" >"$tmp/v5a.log" 2>&1; }
  capture 33-link-sdk41-mqtt5-assigned-id.pcapng v5_assigned
fi
if [ -n "${C_SDK_TLS_BIN:-}" ]; then
  # The stock MQTT example over TLS 1.2 (RSA key exchange), 6 s.
  tls_basic() { timeout 6 "$C_SDK_TLS_BIN/mqtt-example" >"$tmp/tls.log" 2>&1 || true; }
  PORT=443 capture 34-c-sdk3-tls.raw.pcapng tls_basic
  tshark -n -r "$out/34-c-sdk3-tls.raw.pcapng" -o "uat:rsa_keys:\"$LAB_TLS/server.key\",\"\"" \
    --export-tls-session-keys "$out/34-c-sdk3-tls.keylog" >/dev/null
  editcap --inject-secrets "tls,$out/34-c-sdk3-tls.keylog" "$out/34-c-sdk3-tls.raw.pcapng" "$out/34-c-sdk3-tls.pcapng"
  rm "$out/34-c-sdk3-tls.raw.pcapng"
  echo "wrote $out/34-c-sdk3-tls.pcapng (keys embedded) and 34-c-sdk3-tls.keylog"
fi
if [ -n "${LINK_SDK_BIN:-}" ]; then
  # The Link SDK 4.x data model over MQTT 3.1.1: no reply SUBSCRIBEs (it relies on _ss=1), so
  # the platform-like minibroker.py in place of mosquitto; the platform's calls in the 4.x way.
  kill "$mq"; wait "$mq" 2>/dev/null || true; sleep 0.3
  MINIBROKER_SS=1 PYTHONPATH="$here" "$PY" "$here/minibroker.py" 2>>"$tmp/broker.log" & pids+=($!); sleep 0.7
  data_model() { timeout 60 "$LINK_SDK_BIN/data-model-lab" >"$tmp/dm.log" 2>&1; }
  CLOUD_ARGS=--link4 capture 35-link-sdk41-data-model.pcapng data_model
fi

