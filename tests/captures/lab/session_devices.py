"""Device side of the per-session captures 17-21 (paho-mqtt 1.6.1, MQTT 3.1.1, Alibaba logins from
session_lab.login).  Usage: session_devices.py CASE   with CASE one of
  abrupt     17  lab-sensor-17 vs mosquitto: SUBSCRIBE, 3 acked QoS 1 posts; then (broker frozen by the
                 recorder) a QoS 0 and a QoS 1 post stay unanswered until the recorder kills the broker
                 (the broker's kernel resets the connection, its receive buffer still holding them)
  refused    18  lab-sensor-18 vs sessionbroker: SUBSCRIBE of three filters, one of another device (0x80),
                 an acked QoS 1 post, a QoS 1 post to another device's topic (dropped, never acked),
                 UNSUBSCRIBE, an idle keep-alive period (paho sends PINGREQ), DISCONNECT
  keepalive  19  lab-sensor-19 vs sessionbroker, keep-alive 30 s: posts, then the recorder freezes the
                 process (SIGSTOP) for 55 s, then it resumes: PINGREQ (overdue), post, DISCONNECT
  twice      20  lab-sensor-20 vs sessionbroker: connection 1 logs in and posts; connection 2 (same
                 device, later timestamp) logs in, the broker closes connection 1; 2 posts, DISCONNECT
  qos2       21  lab-sensor-21 vs mosquitto: CONNECT with a will, QoS 2 SUBSCRIBE, a QoS 2 PUBLISH
                 (PUBREC/PUBREL/PUBCOMP), a retained QoS 0 and a retained QoS 1 PUBLISH, DISCONNECT
Coordination with session-record.sh through marker files in $LAB_SYNC (session_lab.mark/wait_mark).
"""
import json
import sys
import threading
import time

import paho.mqtt.client as mqtt

import lab
import session_lab as sl

PK = sl.PK
msg_id = [0]


def log(*a):
    print("device:", *a, file=sys.stderr, flush=True)


def client(dn, keepalive=60, will=None, ts=None):
    cid, user, pw, ts = sl.login(dn, ts)
    c = mqtt.Client(client_id=cid, clean_session=True, protocol=mqtt.MQTTv311)
    c.username_pw_set(user, pw)
    c.reconnect_delay_set(600, 600)          # a device that does not come back within the capture
    if will:
        c.will_set(*will)
    c.acked = set()
    c.gone = threading.Event()
    c.on_publish = lambda c_, u, mid: (c_.acked.add(mid), log(dn, "acked mid", mid))
    c.on_subscribe = lambda c_, u, mid, q: log(dn, "SUBACK mid", mid, "granted", q)
    c.on_unsubscribe = lambda c_, u, mid: log(dn, "UNSUBACK mid", mid)
    c.on_message = lambda c_, u, m: log(dn, "got", m.topic, m.qos, m.retain, m.payload[:80])
    c.on_disconnect = lambda c_, u, rc: (log(dn, "disconnected rc", rc), c_.gone.set())
    c.connect(lab.HOST, lab.PORT, keepalive)
    c.loop_start()
    log(dn, "CONNECT", cid, "keepalive", keepalive)
    return c


def post(dn, **params):
    msg_id[0] += 1
    return ("/sys/%s/%s/thing/event/property/post" % (PK, dn),
            json.dumps({"id": str(msg_id[0]), "version": "1.0", "params": params,
                        "method": "thing.event.property.post"}, separators=(",", ":")))


def pub(c, topic, payload, qos, retain=False, wait=0.4):
    info = c.publish(topic, payload, qos, retain)
    log("PUBLISH mid", info.mid, "qos", qos, "retain", retain, topic)
    time.sleep(wait)
    return info.mid


def sys_topic(dn, rest):
    return "/sys/%s/%s/%s" % (PK, dn, rest)


def abrupt():
    dn = "lab-sensor-17"
    c = client(dn)
    time.sleep(0.5)
    c.subscribe([(sys_topic(dn, "thing/event/property/post_reply"), 1),
                 (sys_topic(dn, "thing/service/property/set"), 1)])
    time.sleep(0.4)
    for t in (21.5, 21.75, 22.0):
        pub(c, *post(dn, temperature=t), 1)
    sl.mark("abrupt.ready")                   # recorder: SIGSTOP the broker
    sl.wait_mark("abrupt.frozen")
    pub(c, *post(dn, temperature=22.25), 0, wait=0.2)
    mid = pub(c, *post(dn, temperature=22.5), 1, wait=0.2)
    sl.mark("abrupt.sent")                    # recorder: SIGKILL the broker -> RST
    c.gone.wait(30)
    log("QoS 1 mid", mid, "acked" if mid in c.acked else "NEVER acked")
    c.loop_stop()


def refused():
    dn = "lab-sensor-18"
    c = client(dn, keepalive=5)
    time.sleep(0.5)
    c.subscribe([(sys_topic(dn, "thing/event/property/post_reply"), 1),
                 (sys_topic(dn, "thing/service/property/set"), 0),
                 (sys_topic("lab-sensor-99", "thing/service/property/set"), 1)])   # other device: 0x80
    time.sleep(0.4)
    pub(c, *post(dn, temperature=18.5), 1)
    bad = pub(c, *post("lab-sensor-99", temperature=99.0), 1, wait=1.0)           # dropped, no PUBACK
    c.unsubscribe(sys_topic(dn, "thing/event/property/post_reply"))
    time.sleep(6.0)                           # idle > keep-alive 5 s: paho sends PINGREQ
    log("QoS 1 mid", bad, "acked" if bad in c.acked else "NEVER acked")
    c.disconnect()
    time.sleep(0.3)
    c.loop_stop()


def keepalive():
    dn = "lab-sensor-19"
    c = client(dn, keepalive=30)
    time.sleep(0.5)
    c.subscribe(sys_topic(dn, "thing/service/property/set"), 1)
    time.sleep(0.4)
    pub(c, *post(dn, temperature=19.0), 1)
    pub(c, *post(dn, temperature=19.25), 0)
    sl.mark("keepalive.ready")                # recorder: SIGSTOP this process for 55 s, then SIGCONT
    sl.wait_mark("keepalive.resumed", timeout=300)
    time.sleep(0.5)                           # paho's loop sends the overdue PINGREQ first
    pub(c, *post(dn, temperature=19.5), 1, wait=0.6)
    c.disconnect()
    time.sleep(0.3)
    c.loop_stop()


def twice():
    dn = "lab-sensor-20"
    c1 = client(dn)
    time.sleep(0.5)
    c1.subscribe(sys_topic(dn, "thing/service/property/set"), 1)
    time.sleep(0.4)
    pub(c1, *post(dn, temperature=20.0), 1, wait=0.8)
    c2 = client(dn)                           # same device, new timestamp: the broker kicks c1
    c1.gone.wait(5)
    time.sleep(0.5)
    c2.subscribe(sys_topic(dn, "thing/service/property/set"), 1)
    time.sleep(0.4)
    pub(c2, *post(dn, temperature=20.5), 1, wait=0.6)
    c2.disconnect()
    time.sleep(0.3)
    c2.loop_stop()
    c1.loop_stop()


def qos2():
    dn = "lab-sensor-21"
    will = ("/%s/%s/user/will" % (PK, dn), '{"status":"offline"}', 1, False)
    c = client(dn, will=will)
    time.sleep(0.5)
    c.subscribe("/%s/%s/user/get" % (PK, dn), 2)
    time.sleep(0.4)
    pub(c, "/%s/%s/user/update" % (PK, dn), '{"seq":1,"qos":2}', 2, wait=0.6)
    pub(c, "/%s/%s/user/update" % (PK, dn), '{"seq":2,"retained":true}', 0, retain=True)
    pub(c, "/%s/%s/user/state" % (PK, dn), '{"seq":3,"retained":true,"qos":1}', 1, retain=True)
    c.disconnect()
    time.sleep(0.3)
    c.loop_stop()


if __name__ == "__main__":
    {"abrupt": abrupt, "refused": refused, "keepalive": keepalive, "twice": twice, "qos2": qos2}[sys.argv[1]]()
