"""Device of captures 22, 23 and 24: real paho-mqtt 1.6.1, MQTT 3.1.1 with the Alibaba login, over
  tls  TLS on TCP (22: port 1883)                               securemode=2
  ws   WebSocket ws://127.0.0.1:PORT/mqtt (23: port 80)         securemode=3
  wss  TLS WebSocket wss://127.0.0.1:PORT/mqtt (24: port 443)   securemode=2
(paho's websocket transport sends Sec-WebSocket-Protocol: mqtt and writes each MQTT packet as one
masked binary WebSocket frame).  CONNECT -> SUBSCRIBE post_reply (QoS 1) -> QoS 1 property post ->
waits for PUBACK and the platform's post_reply -> DISCONNECT.  With TLS the session keys go to the key
log file through Python's SSLContext.keylog_filename (NSS key log format).
Usage: transport_paho_device.py tls|ws|wss DN PORT [CA_PEM KEYLOG]
"""
import ssl
import sys
import threading
import time

import paho.mqtt.client as mqtt

import lab
import transport_lab as tl


def log(*a):
    print("device:", *a, file=sys.stderr, flush=True)


def run(mode, dn, port, ca=None, keylog=None):
    tls = mode in ("tls", "wss")
    cid, user, pw, _ts = tl.login(dn, 2 if tls else 3)
    c = mqtt.Client(client_id=cid, clean_session=True, protocol=mqtt.MQTTv311,
                    transport="websockets" if mode in ("ws", "wss") else "tcp")
    if mode in ("ws", "wss"):
        c.ws_set_options(path="/mqtt")
    c.username_pw_set(user, pw)
    if tls:
        ctx = ssl.create_default_context(cafile=ca)
        ctx.keylog_filename = keylog
        c.tls_set_context(ctx)
    ev = {k: threading.Event() for k in ("conn", "sub", "pub", "reply", "gone")}
    c.on_connect = lambda *_a: ev["conn"].set()
    c.on_subscribe = lambda *_a: ev["sub"].set()
    c.on_publish = lambda *_a: ev["pub"].set()
    c.on_message = lambda _c, _u, m: (log("got", m.topic, m.payload), ev["reply"].set())
    c.on_disconnect = lambda *_a: ev["gone"].set()
    c.connect(lab.HOST, port, 60)
    c.loop_start()
    ev["conn"].wait(10)
    c.subscribe(tl.reply_topic(dn), 1)
    ev["sub"].wait(10)
    time.sleep(0.2)
    c.publish(tl.post_topic(dn), tl.post_payload(), 1)
    ev["pub"].wait(10)
    ok = ev["reply"].wait(10)
    time.sleep(0.2)
    c.disconnect()
    ev["gone"].wait(10)
    c.loop_stop()
    log(dn, mode, port, "done, reply received:", ok)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) < 3 or a[0] not in ("tls", "ws", "wss") or (a[0] != "ws" and len(a) < 5):
        sys.exit(__doc__)
    run(a[0], a[1], int(a[2]), *a[3:5])
