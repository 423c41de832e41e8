#!/usr/bin/env bash
# Records 07-plain-mosquitto.pcapng: real MQTT 3.1.1 traffic of non-Alibaba clients (mosquitto's
# own clients against a local mosquitto on 127.0.0.1:1883), used to show aliiot stays silent on
# MQTT that is not Alibaba's and leaves other mqtt.topic heuristics (SparkplugB) their payloads.
# Needs: mosquitto, mosquitto-clients, dumpcap (root or the wireshark group). Port 1883 must be free.
set -euo pipefail
out=${1:-$(dirname "$0")/07-plain-mosquitto.pcapng}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
printf 'listener 1883 127.0.0.1\nallow_anonymous false\npassword_file %s/pw\n' "$tmp" >"$tmp/conf"
mosquitto_passwd -b -c "$tmp/pw" alice wonderland
chmod 755 "$tmp"; chmod 644 "$tmp/pw" "$tmp/conf"   # mosquitto drops root privileges
mosquitto -c "$tmp/conf" & sleep 0.5
dumpcap -q -i lo -f "tcp port 1883" -w "$tmp/cap.pcapng" & dp=$!; sleep 1.5
mosquitto_sub -h 127.0.0.1 -u alice -P wonderland -i kitchen-display -t 'home/kitchen/#' -q 1 -C 2 -W 5 >/dev/null &
sleep 0.5
mosquitto_pub -h 127.0.0.1 -u alice -P wonderland -i thermostat-7 -t home/kitchen/temperature -m '{"celsius":21.5}' -q 1
mosquitto_pub -h 127.0.0.1 -u alice -P wonderland -i sparkplug-node -t spBv1.0/plant/NDATA/node1 -m not-protobuf -q 0
mosquitto_pub -h 127.0.0.1 -u alice -P wonderland -i thermostat-7 -t home/kitchen/humidity -m 48 -q 0
sleep 1
kill $dp; wait $dp 2>/dev/null || true
cp "$tmp/cap.pcapng" "$out"
echo "wrote $out"
