"""Writes (or refreshes) the lab-manifest.json entries of the per-session captures 17-21.

The frame tables are read from the files with tshark: every frame that carries MQTT (frame number,
time, direction, TCP stream, and per MQTT packet: type, packet id, QoS, DUP/RETAIN flags, topic,
SUBSCRIBE filters with requested QoS, SUBACK return codes, CONNECT client id / user / password /
keep-alive / will), the TCP control frames (SYN, FIN, RST) and, per TCP stream, how it ended and who
ended it.  Every CONNECT password is re-checked (minibroker.check_login).  Titles, sources and the
'what_happens' prose below are written by hand for the committed files: after re-recording, check
their frame numbers against the regenerated 'frames'.
Usage: session_manifest.py [capture dir]   (updates <capture dir>/lab-manifest.json in place; other
entries are kept as they are)
"""
import hashlib
import json
import os
import subprocess
import sys

import session_lab as sl
from minibroker import check_login

TYPES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL", 7: "PUBCOMP",
         8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP",
         14: "DISCONNECT"}

META = {
    "17-abrupt-end-rst.pcapng": {
        "title": "abrupt end: QoS 0 and QoS 1 PUBLISH in flight, the connection dies with a TCP RST, no DISCONNECT; the QoS 1 is never acknowledged",
        "source": "real paho-mqtt 1.6.1 client (lab/session_devices.py abrupt, lab-computed Alibaba login) against a real mosquitto 2.0.11; recorded by lab/session-record.sh inside a private network namespace (127.0.0.1:1883 on its own lo). After three acknowledged QoS 1 posts the recorder freezes mosquitto (SIGSTOP): its kernel still ACKs the next two PUBLISHes at TCP level, but nothing reads or answers them. 1.3 s later the recorder kills mosquitto (SIGKILL); it dies with those bytes unread in its socket, so its kernel answers with RST,ACK (broker side). The device never sends DISCONNECT.",
        "device": "lab-sensor-17", "broker": "mosquitto 2.0.11 (frozen, then killed)",
    },
    "18-unacked-and-refused.pcapng": {
        "title": "QoS 1 PUBLISH never acknowledged, one SUBSCRIBE filter of three refused (SUBACK 0x80), UNSUBSCRIBE/UNSUBACK, PINGREQ/PINGRESP, clean DISCONNECT",
        "source": "real paho-mqtt 1.6.1 client (lab/session_devices.py refused, keep-alive 5 s so that paho sends a PINGREQ in the idle period) against lab/sessionbroker.py, which like the platform lets a device use only topics carrying its own {pk}/{dn}: the filter of lab-sensor-99 gets 0x80, the QoS 1 PUBLISH to lab-sensor-99's topic is dropped without PUBACK. lab/session-record.sh, private network namespace.",
        "device": "lab-sensor-18", "broker": "lab/sessionbroker.py",
    },
    "19-keepalive-violation.pcapng": {
        "title": "keep-alive violation: keep-alive 30 s, the device is silent for about 56 s (> 1.5 x 30 s = 45 s), then sends PINGREQ and a PUBLISH and disconnects cleanly",
        "source": "real paho-mqtt 1.6.1 client (lab/session_devices.py keepalive) against lab/sessionbroker.py, which does not enforce keep-alive; the recorder freezes the device process (SIGSTOP) for 55 s after its QoS 0 post and then resumes it (SIGCONT): paho's loop finds the keep-alive overdue and sends PINGREQ at once, then the device posts again. No packet at all (no TCP keep-alive either) during the silence. lab/session-record.sh, private network namespace.",
        "device": "lab-sensor-19", "broker": "lab/sessionbroker.py",
    },
    "20-same-device-twice.pcapng": {
        "title": "same device on two overlapping TCP connections: the second login (same productKey/deviceName, later timestamp, so a different client id) makes the broker close the older connection; the newer one goes on and disconnects cleanly",
        "source": "two real paho-mqtt 1.6.1 clients in one process (lab/session_devices.py twice) against lab/sessionbroker.py, which like the platform keeps one session per device and closes the older TCP connection (FIN, no MQTT packet) when the device logs in again. The kicked client is set not to reconnect within the capture. lab/session-record.sh, private network namespace.",
        "device": "lab-sensor-20", "broker": "lab/sessionbroker.py",
    },
    "21-qos2-retain-will.pcapng": {
        "title": "things the platform does not support: CONNECT with a will (QoS 1), SUBSCRIBE at QoS 2 (granted 2), a QoS 2 PUBLISH with PUBREC/PUBREL/PUBCOMP, a retained QoS 0 and a retained QoS 1 PUBLISH",
        "source": "real paho-mqtt 1.6.1 client (lab/session_devices.py qos2, Alibaba login) against a real mosquitto 2.0.11 (which supports all of it; the Alibaba platform does not support QoS 2, retained messages or wills on MQTT 3.1.1). lab/session-record.sh, private network namespace.",
        "device": "lab-sensor-21", "broker": "mosquitto 2.0.11",
    },
}


def hexstr(v):
    return bytes.fromhex(v.replace(":", "")).decode("utf-8", "replace")


class Pairs(list):
    """A JSON object as its list of (key, value) pairs: tshark repeats keys (several SUBSCRIBE filters,
    SUBACK codes, several MQTT packets in one frame), which a dict would collapse."""

    def get(self, key, default=None):
        vals = self.all(key)
        return vals[0] if vals else default

    def all(self, key):
        return [v for k, v in self if k == key]


def pdus(layers):
    out = []
    for m in layers.all("mqtt"):
        out.extend([m] if isinstance(m, Pairs) else m)
    return out


def flat(d, out=None):
    out = {} if out is None else out
    for k, v in d:
        if isinstance(v, Pairs):
            flat(v, out)
        elif isinstance(v, list):
            for x in v:
                if isinstance(x, Pairs):
                    flat(x, out)
                else:
                    out.setdefault(k, []).append(x)
        else:
            out.setdefault(k, []).append(v)
    return out


def describe(pdu):
    f = flat(pdu)
    hdr = int(f["mqtt.hdrflags"][0], 16)
    typ = hdr >> 4
    d = {"type": TYPES.get(typ, str(typ))}
    one = lambda k: f[k][0] if k in f else None  # noqa: E731
    if one("mqtt.msgid") is not None:
        d["packet_id"] = int(one("mqtt.msgid"))
    if typ == 3:
        d["qos"] = (hdr >> 1) & 3
        if hdr & 8:
            d["dup"] = True
        if hdr & 1:
            d["retain"] = True
        d["topic"] = one("mqtt.topic")
        d["payload"] = hexstr(one("mqtt.msg")) if one("mqtt.msg") else ""
    elif typ == 1:
        cf = int(one("mqtt.conflags"), 16)
        d.update({"clientId": one("mqtt.clientid"), "username": one("mqtt.username"),
                  "password": one("mqtt.passwd"), "keepalive": int(one("mqtt.kalive")),
                  "clean_session": bool(cf & 2)})
        if cf & 4:
            d["will"] = {"topic": one("mqtt.willtopic"), "message": hexstr(one("mqtt.willmsg")),
                         "qos": (cf >> 3) & 3, "retain": bool(cf & 0x20)}
    elif typ == 2:
        d["return_code"] = int(one("mqtt.conack.val"))
    elif typ == 8:
        d["filters"] = [[t, int(q)] for t, q in zip(f.get("mqtt.topic", []), f.get("mqtt.sub.qos", []))]
    elif typ == 9:
        d["return_codes"] = ["0x%02x" % int(q, 0) for q in f.get("mqtt.suback.qos", [])]
    elif typ == 10:
        d["filters"] = f.get("mqtt.topic", [])
    return d


def analyse(path):
    out = subprocess.run(["tshark", "-r", path, "-T", "json"], capture_output=True, text=True, check=True).stdout
    frames, ends, logins = [], {}, []
    for p in json.loads(out, object_pairs_hook=Pairs):
        L = p.get("_source").get("layers")
        tcp, fr = L.get("tcp"), L.get("frame")
        n = int(fr.get("frame.number"))
        t = round(float(fr.get("frame.time_relative")), 6)
        d2c = tcp.get("tcp.dstport") == "1883"
        fl = flat(tcp)
        flags = int(fl["tcp.flags"][0], 16)
        ctl = [name for bit, name in ((0x02, "SYN"), (0x01, "FIN"), (0x04, "RST")) if flags & bit]
        mq = [describe(x) for x in pdus(L)]
        if not mq and not ctl:
            continue
        row = {"frame": n, "time": t, "stream": int(tcp.get("tcp.stream")), "dir": "D>C" if d2c else "C>D"}
        if mq:
            row["mqtt"] = mq
        if ctl:
            row["tcp"] = "+".join(ctl)
        if "tcp.analysis.retransmission" in fl:
            row["tcp_retransmission"] = True
        frames.append(row)
        s = row["stream"]
        if "FIN" in ctl or "RST" in ctl:
            ends.setdefault(s, []).append({"frame": n, "flag": "RST" if "RST" in ctl else "FIN",
                                           "by": "device" if d2c else "broker"})
        for x in mq:
            if x["type"] == "CONNECT":
                ok, _ = check_login(x["clientId"], x["username"], x["password"])
                logins.append({"frame": n, "stream": s, "clientId": x["clientId"], "username": x["username"],
                               "password": x["password"], "timestamp": x["clientId"].split("timestamp=")[1].split("|")[0].split(",")[0],
                               "signmethod": "hmacsha1", "password_checks": ok})
                if not ok:
                    sys.exit("bad password in %s #%d" % (path, n))
    tcp_end = []
    for s, ev in sorted(ends.items()):
        first = ev[0]
        tcp_end.append({"stream": s, "ended_by": first["by"], "how": first["flag"],
                        "events": ["#%d %s from %s" % (e["frame"], e["flag"], e["by"]) for e in ev],
                        "mqtt_disconnect": any(x["type"] == "DISCONNECT" for r in frames if r["stream"] == s
                                               for x in r.get("mqtt", []))})
    return frames, tcp_end, logins


NOTE = ("Captures 17-21 (lab/session-record.sh) are about sessions, not payloads: each entry has 'frames' "
        "(every frame carrying MQTT plus the TCP SYN/FIN/RST frames, tshark numbering, time relative to the "
        "first frame, TCP stream, D>C/C>D, per MQTT packet type, packet id, QoS, DUP/RETAIN, topic), 'tcp_end' "
        "(per TCP stream: FIN or RST, who sent it first, whether an MQTT DISCONNECT came before) and 'logins' "
        "(client id, user name, password, timestamp of every CONNECT, each re-checked). Recorded in a private "
        "network namespace on its own loopback (still 127.0.0.1:1883); broker mosquitto 2.0.11 or "
        "lab/sessionbroker.py (platform-like per-device topic rules, one connection per device, no keep-alive "
        "enforcement); device side paho-mqtt 1.6.1.")

WHAT = {
    "17-abrupt-end-rst.pcapng": [
        "#1-#2 handshake; #4 D>C CONNECT clientId 'a1B2c3D4e5F&lab-sensor-17|securemode=3,signmethod=hmacsha1,timestamp=<ms>|', username 'lab-sensor-17&a1B2c3D4e5F', keep-alive 60, password = lower-hex HMAC-SHA1(deviceSecret, clientIda1B2c3D4e5F&lab-sensor-17deviceNamelab-sensor-17productKeya1B2c3D4e5Ftimestamp<ms>) (see 'logins'); #6 CONNACK 0",
        "#8 D>C SUBSCRIBE id 1 (post_reply QoS 1, service/property/set QoS 1) -> #9 SUBACK id 1 [0x01, 0x01]",
        "#11 PUBLISH id 2 QoS 1 -> #12 PUBACK 2; #14 PUBLISH id 3 -> #15 PUBACK 3; #17 PUBLISH id 4 -> #18 PUBACK 4 (all thing/event/property/post)",
        "broker frozen from here: #20 D>C PUBLISH QoS 0 (property/post id '4' in the payload) at 2.51 s, TCP-ACKed by the broker's kernel in #21; #22 D>C PUBLISH id 6 QoS 1 at 2.71 s, TCP-ACKed in #23 but NEVER acknowledged by a PUBACK (paho mid 5 was the QoS 0 one, so the ids go 4 -> 6)",
        "#24 C>D RST,ACK at 3.97 s (Ack 1077 = everything the device sent): the broker process died with the two PUBLISHes unread; no DISCONNECT, no FIN from either side; the device sends nothing after it",
    ],
    "18-unacked-and-refused.pcapng": [
        "#4 D>C CONNECT lab-sensor-18, keep-alive 5; #6 CONNACK 0",
        "#8 D>C SUBSCRIBE id 1 with three filters: /sys/a1B2c3D4e5F/lab-sensor-18/thing/event/property/post_reply QoS 1, /sys/a1B2c3D4e5F/lab-sensor-18/thing/service/property/set QoS 0, /sys/a1B2c3D4e5F/lab-sensor-99/thing/service/property/set QoS 1 (another device) -> #9 SUBACK id 1 [0x01, 0x00, 0x80]: the third filter is refused",
        "#11 D>C PUBLISH id 2 QoS 1 /sys/a1B2c3D4e5F/lab-sensor-18/thing/event/property/post -> #12 PUBACK 2",
        "#14 D>C PUBLISH id 3 QoS 1 /sys/a1B2c3D4e5F/lab-sensor-99/thing/event/property/post (another device's topic) -> NEVER acknowledged (the broker drops it; the session goes on)",
        "#16 D>C UNSUBSCRIBE id 4 (post_reply) -> #18 UNSUBACK 4",
        "#20 D>C PINGREQ (5 s after #16, the keep-alive) -> #21 PINGRESP",
        "#23 D>C DISCONNECT; #24 C>D FIN (the broker closes on DISCONNECT), #25 D>C FIN",
    ],
    "19-keepalive-violation.pcapng": [
        "#4 D>C CONNECT lab-sensor-19, keep-alive 30 s; #6 CONNACK 0",
        "#8 D>C SUBSCRIBE id 1 (service/property/set QoS 1) -> #9 SUBACK [0x01]",
        "#11 D>C PUBLISH id 2 QoS 1 property/post -> #12 PUBACK 2; #14 D>C PUBLISH QoS 0 property/post at 1.30 s (#15 its TCP ACK at 1.34 s)",
        "silence: no frame at all from 1.34 s to 57.31 s; the device's last MQTT packet (#14, 1.30 s) and its next one (#16, 57.31 s) are 56.0 s apart, more than 1.5 x 30 s = 45 s (the platform would have closed the connection at about 46 s)",
        "#16 D>C PINGREQ at 57.31 s (overdue keep-alive, sent first after the device wakes up) -> #18 PINGRESP",
        "#20 D>C PUBLISH id 4 QoS 1 property/post -> #21 PUBACK 4 (paho mid 3 was the QoS 0 one)",
        "#23 D>C DISCONNECT; #24 C>D FIN, #25 D>C FIN",
    ],
    "20-same-device-twice.pcapng": [
        "TCP stream 0 (older connection): #1-#2 handshake; #4 D>C CONNECT clientId 'a1B2c3D4e5F&lab-sensor-20|securemode=3,signmethod=hmacsha1,timestamp=<ts1>|', username 'lab-sensor-20&a1B2c3D4e5F'; #6 CONNACK 0; #8 SUBSCRIBE id 1 -> #9 SUBACK [0x01]; #11 PUBLISH id 2 QoS 1 -> #12 PUBACK 2",
        "TCP stream 1 (newer connection, same productKey and deviceName, timestamp ts2 = ts1 + 1.7 s, so a different client id): #14-#15 handshake at 1.70 s while stream 0 is still open; #17 D>C CONNECT; #19 CONNACK 0",
        "#21 C>D FIN on stream 0 right after #19: the broker closes the older connection (no MQTT packet, no DISCONNECT on stream 0); #22 D>C FIN on stream 0 (the kicked client closes too and does not reconnect within the capture)",
        "stream 1 goes on: #24 SUBSCRIBE id 1 -> #25 SUBACK [0x01]; #27 PUBLISH id 2 QoS 1 -> #28 PUBACK 2 (packet ids start again at 1 on the new connection); #30 D>C DISCONNECT; #31 C>D FIN, #32 D>C FIN",
    ],
    "21-qos2-retain-will.pcapng": [
        "#4 D>C CONNECT lab-sensor-21 (Alibaba login) with will flag: will topic /a1B2c3D4e5F/lab-sensor-21/user/will, will message {\"status\":\"offline\"}, will QoS 1, will retain 0, clean session; #6 CONNACK 0",
        "#8 D>C SUBSCRIBE id 1 /a1B2c3D4e5F/lab-sensor-21/user/get at QoS 2 -> #9 SUBACK [0x02]",
        "#11 D>C PUBLISH id 2 QoS 2 /a1B2c3D4e5F/lab-sensor-21/user/update -> #12 C>D PUBREC 2 -> #14 D>C PUBREL 2 -> #15 C>D PUBCOMP 2",
        "#17 D>C PUBLISH QoS 0 RETAIN=1 /a1B2c3D4e5F/lab-sensor-21/user/update",
        "#19 D>C PUBLISH id 4 QoS 1 RETAIN=1 /a1B2c3D4e5F/lab-sensor-21/user/state -> #21 PUBACK 4 (paho mid 3 was the QoS 0 one)",
        "#23 D>C DISCONNECT (clean, so the will is not published); #24 D>C FIN, #25 C>D FIN",
    ],
}


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    mpath = os.path.join(d, "lab-manifest.json")
    man = json.load(open(mpath))
    prods = man["products"]["a1B2c3D4e5F"]["devices"]
    for dn, sec in sl.SESSION_DEVICES.items():
        prods[dn] = sec
    if NOTE not in man["notes"]:
        man["notes"].append(NOTE)
    keep = [c for c in man["captures"] if c["file"] not in META]
    for name, meta in META.items():
        path = os.path.join(d, name)
        if not os.path.exists(path):
            continue
        frames, tcp_end, logins = analyse(path)
        entry = {"file": name, "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
                 "title": meta["title"], "source": meta["source"]}
        if name in WHAT:
            entry["what_happens"] = WHAT[name]
        entry.update({
            "frames": frames, "tcp_end": tcp_end, "logins": logins,
            "library": {"name": "paho-mqtt", "version": "1.6.1"},
            "mqtt_version": "3.1.1", "transport": "tcp/1883 (127.0.0.1, private network namespace)",
            "broker": meta["broker"],
            "devices": [{"productKey": sl.PK, "deviceName": meta["device"],
                         "deviceSecret": sl.SESSION_DEVICES[meta["device"]]}],
        })
        keep.append(entry)
    man["captures"] = keep
    with open(mpath, "w") as fh:
        json.dump(man, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print("updated", mpath, "entries:", [c["file"] for c in keep if c["file"] in META])


if __name__ == "__main__":
    main()
