"""Platform stand-in for the transport captures 22-25: a paho-mqtt client on the broker's plain
listener 127.0.0.1:11884 (not captured) that answers every thing/event/property/post with
  topic  <post topic>_reply      QoS 0 (like lab/cloud.py)
  body   {"id":"<request id>","code":200,"data":{}}
Usage: transport_platform.py   (runs until killed; logs to stderr; creates $LAB_SYNC/platform.ready)
"""
import json
import sys

import paho.mqtt.client as mqtt

import lab
import session_lab as sl
import transport_lab as tl


def log(*a):
    print("platform:", *a, file=sys.stderr, flush=True)


def on_message(c, _u, m):
    log("<-", m.topic, m.payload[:80])
    try:
        req = json.loads(m.payload.decode())
    except Exception:
        return
    body = json.dumps({"id": req.get("id"), "code": 200, "data": {}}, separators=(",", ":"))
    c.publish(m.topic + "_reply", body, 0)
    log("->", m.topic + "_reply", body)


def on_connect(c, _u, _f, rc):
    log("connected rc", rc)
    c.subscribe("/sys/+/+/thing/event/property/post", 1)


def on_subscribe(*_a):
    sl.mark("platform.ready")


def main():
    c = mqtt.Client(client_id="lab-platform-transport", clean_session=True, protocol=mqtt.MQTTv311)
    c.on_connect, c.on_message, c.on_subscribe = on_connect, on_message, on_subscribe
    c.connect(lab.HOST, tl.PLATFORM_PORT, 60)
    c.loop_forever()


if __name__ == "__main__":
    main()
