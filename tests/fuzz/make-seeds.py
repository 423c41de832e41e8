#!/usr/bin/env python3
"""Writes the fuzz seed corpora in tests/fuzz/seeds/<target>/ from the test captures.

    tests/fuzz/make-seeds.py            (needs tshark; run from anywhere)

Deterministic: the same captures give the same files, named by content hash. Every seed is a real
input (client ids, user names, topics, payloads, TCP streams and MQTT packet sequences of the
captures in tests/captures/), written in the input format of its target (see the header comment
of each tests/fuzz/fuzz_targets/*.rs), plus a few hand-written edge cases. Seeds bigger than
MAX_SEED bytes are left out so the set stays small.
"""

import glob
import hashlib
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CAPTURES = os.path.join(ROOT, "tests", "captures")
SEEDS = os.path.join(HERE, "seeds")
MAX_SEED = 4096
BROKER_PORTS = {1883, 8883, 443, 80}

# Captures whose MQTT tshark reads without extra options (plain TCP, or TLS with embedded keys on
# a port it knows).
MQTT_CAPTURES = [
    "01-aliyun-iot-mqtt-basic.pcapng",
    "02-alibabacloud-sdk-thing-model.pcapng",
    "04-tls-alibabacloud-sdk.pcapng",
    "05-mqtt5-mqttjs-alibaba-auth.pcapng",
    "06a-bad-devicesecret.pcapng",
    "06b-bad-clientid-no-ext.pcapng",
    "07-plain-mosquitto.pcapng",
    "08-bad-input.pcap",
    "09-mid-session.pcapng",
    "10-gateway-subdevices-nodesdk.pcapng",
    "11-gateway-batch-login-linkkit.pcapng",
    "12-dynreg-mqtt-linkkit.pcapng",
    "13-ntp-ota-linkkit.pcapng",
    "14-rrpc-ext-services-linkkit.pcapng",
    "15-binary-upraw-file-download.pcapng",
    "16-alink-quirks.pcapng",
    "17-abrupt-end-rst.pcapng",
    "18-unacked-and-refused.pcapng",
    "19-keepalive-violation.pcapng",
    "20-same-device-twice.pcapng",
    "21-qos2-retain-will.pcapng",
]

MQTT_FIELDS = {
    "mqtt.hdrflags", "mqtt.clientid", "mqtt.username", "mqtt.passwd", "mqtt.topic", "mqtt.msg",
    "mqtt.ver", "mqtt.kalive", "mqtt.conack.val", "mqtt.connack.reason_code", "mqtt.msgid",
    "mqtt.suback.qos", "mqtt.suback.reason_code", "mqtt.conflag.willflag",
    "mqtt.puback.reason_code", "mqtt.disconnect.reason_code", "mqtt.property.topic_alias",
    "mqtt.prop_key", "mqtt.len",
}


def tshark(*args):
    return subprocess.run(["tshark", *args], check=True, capture_output=True).stdout


def unhex(v):
    """A PDML value: hex of the field's bytes (bit fields have a shorter value: not bytes)."""
    try:
        return bytes.fromhex(v or "")
    except ValueError:
        return b""


def pdml_packets(path):
    """Per frame: time, TCP facts and the MQTT PDUs, each a list of (field, raw bytes)."""
    root = ET.fromstring(tshark("-r", path, "-T", "pdml", "-Y", "tcp"))
    for pkt in root.iter("packet"):
        frame = {"pdus": [], "fin": False, "rst": False}
        for proto in pkt.findall("proto"):
            name = proto.get("name")
            if name == "frame":
                for f in proto.iter("field"):
                    if f.get("name") == "frame.time_epoch":
                        frame["time"] = float(f.get("show"))
            elif name == "tcp":
                for f in proto.iter("field"):
                    n = f.get("name")
                    if n == "tcp.srcport":
                        frame["sport"] = int(f.get("show"))
                    elif n == "tcp.dstport":
                        frame["dport"] = int(f.get("show"))
                    elif n == "tcp.stream":
                        frame["stream"] = int(f.get("show"))
                    elif n == "tcp.flags.fin":
                        frame["fin"] = f.get("show") in ("1", "True")
                    elif n == "tcp.flags.reset":
                        frame["rst"] = f.get("show") in ("1", "True")
                    elif n == "tcp.payload":
                        frame["payload"] = unhex(f.get("value"))
            elif name == "mqtt":
                fields = []
                for f in proto.iter("field"):
                    n = f.get("name")
                    if n in MQTT_FIELDS:
                        fields.append((n, f.get("show") or "", unhex(f.get("value"))))
                frame["pdus"].append(fields)
        yield frame


def put(target, data, name_hint=""):
    if not data or len(data) > MAX_SEED:
        return
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    h = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, (name_hint + "-" if name_hint else "") + h), "wb") as f:
        f.write(data)


def payload_topics():
    """The TOPICS list of fuzz_targets/payload.rs, in order."""
    src = open(os.path.join(HERE, "fuzz_targets", "payload.rs")).read()
    body = src[src.index("pub const TOPICS"):]
    body = body[: body.index("];")]
    return re.findall(r'^\s*"([^"]+)",', body, re.M)


PKS = ("a1B2c3D4e5F", "a1GwPkXyz12", "a1SubPk0001", "a1DynPk0001")


def normalize_topic(t):
    for pk in PKS:
        t = t.replace(pk, "a1B2c3D4e5F")
    t = re.sub(r"lab-[A-Za-z0-9-]+", "dev", t)
    t = re.sub(r"/rrpc/(request|response)/\d+", r"/rrpc/\1/1733000000000001", t)
    t = re.sub(r"^/ext/rrpc/\d+/sys/(.*)/thing/service/\w+$",
               r"/ext/rrpc/1733000000000202/sys/\1/thing/service/GetStatus", t)
    t = re.sub(r"^/ext/rrpc/\d+/", "/ext/rrpc/1733000000000201/", t)
    t = re.sub(r"/thing/service/(?!property/)\w+?(_reply)?$", r"/thing/service/Reboot\1", t)
    t = re.sub(r"/thing/event/(?!property/)\w+/post(_reply)?$", r"/thing/event/alarm/post\1", t)
    return t


def field(pdu, name):
    for n, show, raw in pdu:
        if n == name:
            return show, raw
    return None


def fields(pdu, name):
    return [(show, raw) for n, show, raw in pdu if n == name]


def tlv(tag, value):
    return bytes([tag]) + struct.pack("<H", len(value)) + value


def session_record(pdu, from_device, over_tls, conv, delta_ms, ports):
    hdr = field(pdu, "mqtt.hdrflags")
    if not hdr:
        return None
    b0 = int(hdr[0], 16)
    msg_type, dup, qos, retain = b0 >> 4, (b0 >> 3) & 1, (b0 >> 1) & 3, b0 & 1
    flags = (1 if from_device else 0) | (2 if over_tls else 0)
    will = field(pdu, "mqtt.conflag.willflag")
    if will and will[0] in ("1", "True"):
        flags |= 8
    out = bytearray([msg_type | dup << 4 | retain << 5 | qos << 6, 0, conv])
    out += struct.pack("<H", min(delta_ms, 0xFFFF))
    for name, tag in (("mqtt.clientid", 1), ("mqtt.username", 2), ("mqtt.passwd", 3)):
        v = field(pdu, name)
        if v:
            out += tlv(tag, v[1])
    for _, raw in fields(pdu, "mqtt.topic"):
        out += tlv(4, raw)
    v = field(pdu, "mqtt.msg")
    if v:
        out += tlv(5, v[1])
    v = field(pdu, "mqtt.ver")
    if v:
        out += tlv(6, bytes([int(v[0])]))
    v = field(pdu, "mqtt.kalive")
    if v:
        out += tlv(7, struct.pack("<H", int(v[0])))
    v = field(pdu, "mqtt.conack.val")
    if v:
        out += tlv(8, bytes([int(v[0])]))
    v = field(pdu, "mqtt.connack.reason_code")
    if v:
        out[1] |= 4
        out += tlv(8, bytes([int(v[0], 0)]))
    v = field(pdu, "mqtt.msgid")
    if v:
        out += tlv(9, struct.pack("<H", int(v[0])))
    codes = [int(s, 0) for s, _ in fields(pdu, "mqtt.suback.qos") + fields(pdu, "mqtt.suback.reason_code")]
    if codes:
        out += tlv(10, bytes(codes))
    for name, tag in (("mqtt.puback.reason_code", 14), ("mqtt.disconnect.reason_code", 15)):
        v = field(pdu, name)
        if v:
            out += tlv(tag, bytes([int(v[0], 0)]))
    n_props = len(fields(pdu, "mqtt.prop_key"))
    if n_props:
        out += tlv(16, struct.pack("<I", n_props))
    v = field(pdu, "mqtt.property.topic_alias")
    if v:
        out += tlv(17, struct.pack("<H", int(v[0])))
    if ports:
        out += tlv(20, struct.pack("<HH", *ports))
    out += b"\x00"
    return bytes(out)


# Targets whose seeds this script writes; the others' seeds (mqtt: hand-made packet sequences)
# are kept as committed.
GENERATED = {"alink_json", "clientid", "payload", "session", "sign", "topic", "transport", "tsl",
             "username", "wsstream"}


def main():
    for target in GENERATED:
        shutil.rmtree(os.path.join(SEEDS, target), ignore_errors=True)
    topics = payload_topics()
    rng = random.Random(1)
    for cap in MQTT_CAPTURES:
        path = os.path.join(CAPTURES, cap)
        stem = cap.split("-")[0]
        session = bytearray()
        device_port = {}
        streams = {}
        last_time = None
        for fr in pdml_packets(path):
            st = fr.get("stream", 0)
            sport, dport = fr.get("sport", 0), fr.get("dport", 0)
            if st not in device_port:
                device_port[st] = sport if dport in BROKER_PORTS else dport
            from_device = sport == device_port[st]
            if fr.get("payload") and from_device:
                streams.setdefault(st, bytearray()).extend(fr["payload"])
            t = fr.get("time", 0.0)
            delta = 0 if last_time is None else int((t - last_time) * 1000)
            conv = st % 4
            if fr["fin"] or fr["rst"]:
                last_time = t
                session += bytes([0, 0x10 | (0x20 if fr["rst"] else 0) | int(from_device), conv])
                session += struct.pack("<H", min(max(delta, 0), 0xFFFF)) + b"\x00"
                continue
            for pdu in fr["pdus"]:
                last_time = t
                rec = session_record(pdu, from_device, cap.startswith("04-"), conv,
                                     max(delta, 0), (sport, dport) if stem == "09" else None)
                delta = 0
                if rec and len(session) + len(rec) <= MAX_SEED:
                    session += rec
                cid = field(pdu, "mqtt.clientid")
                user = field(pdu, "mqtt.username")
                pw = field(pdu, "mqtt.passwd")
                if cid:
                    put("clientid", cid[1], stem)
                if user:
                    put("username", user[1], stem)
                if cid and user:
                    secret = b""
                    m = re.search(rb"lab-sensor-(\d\d)", user[1])
                    if m:
                        secret = b"3f1d0c9e8b7a6d5c4b3a29180f7e6d" + m.group(1)
                    prod = b"Zx9YwVuTsRqPoNmL" if b"a1DynPk0001" in user[1] else b""
                    keys = b"# lab keys\n\"a1GwPkXyz12\",\"lab-gw-01\",\"7c1e5a9d3b2f48e6a0c4d8b2f6e1a301\"\na1DynPk0001,Zx9YwVuTsRqPoNmL\n"
                    put("sign", b"\n".join([cid[1], user[1], pw[1] if pw else b"", secret, prod, keys]), stem)
                for _, raw in fields(pdu, "mqtt.topic"):
                    put("topic", raw, stem)
                msg = field(pdu, "mqtt.msg")
                tp = field(pdu, "mqtt.topic")
                if msg and msg[1].lstrip()[:1] in (b"{", b"["):
                    put("alink_json", msg[1], stem)
                if msg and tp:
                    norm = normalize_topic(tp[1].decode("utf-8", "replace"))
                    if norm in topics:
                        put("payload", bytes([topics.index(norm)]) + msg[1], stem)
        if session:
            put("session", bytes(session), stem)
        for st, data in streams.items():
            put("transport", bytes(data[:64]), stem)
            # The device's TCP stream cut into WebSocket-like messages of random sizes.
            ws = bytearray()
            pos = 0
            while pos < len(data) and len(ws) < MAX_SEED - 300:
                n = min(rng.choice([1, 1, 2, 3, 7, 20, 64, 200]), len(data) - pos)
                ws += bytes([n]) + data[pos:pos + n]
                pos += n
            put("wsstream", bytes(ws), stem)

    # MQTT over WebSocket as mqtt.js really splits it (23b): one seed message per WebSocket frame.
    out = tshark("-r", os.path.join(CAPTURES, "23b-mqtt-over-ws-mqttjs.pcapng"), "-Y",
                 "websocket.opcode == 2", "-T", "fields", "-e", "tcp.srcport", "-e", "data.data")
    for port in ("41580", "80"):
        ws = bytearray()
        for line in out.decode().splitlines():
            p, _, hexdata = line.partition("\t")
            if p == port and hexdata:
                b = bytes.fromhex(hexdata.replace(":", ""))
                if len(b) >= 255:
                    ws += b"\xff" + struct.pack("<H", len(b)) + b
                else:
                    ws += bytes([len(b)]) + b
        put("wsstream", bytes(ws), "23b")

    # First bytes of connections that are not MQTT: TLS ClientHellos, HTTP.
    for cap in ("04-tls-alibabacloud-sdk.pcapng", "22-tls-on-1883.pcapng", "24-mqtt-over-wss.pcapng",
                "26-https-on-443.pcapng", "27-tls-looking-plain-mqtt.pcapng", "23-mqtt-over-ws.pcapng"):
        out = tshark("-r", os.path.join(CAPTURES, cap), "-Y", "tcp.len > 0", "-c", "3", "-T", "fields",
                     "-e", "tcp.payload")
        for line in out.decode().splitlines()[:1]:
            if line:
                put("transport", bytes.fromhex(line.replace(":", ""))[:64], cap.split("-")[0])

    # Hand-written edge cases.
    for cid in (
        b"a1B2c3D4e5F.dev|timestamp=2524608000000,_ss=1,securemode=2,signmethod=hmacsha256,ext=3,|",
        b"x|securemode=9\\,signmethod=hmacsha1\\,timestamp=789|",
        b"lab-dyn-01.a1DynPk0001|random=g8QQ,authType=register,securemode=2,signmethod=hmacsha256|",
        b"id|securemode=-1,lan=JS|WX,authtype=connwl|",
        b"unterminated|securemode=3",
    ):
        put("clientid", cid, "edge")
    for t in (b"/ext/rrpc/+/sys/a1B2c3D4e5F/dev/thing/service/#", b"/sys/pk/dn/" + b"/x" * 40,
              b"/broadcast/a1B2c3D4e5F/x/y", b"/a1B2c3D4e5F/dev/update/error"):
        put("topic", t, "edge")
    put("alink_json", b'\xef\xbb\xbf{"id":"1","params":"{\\"a\\":[1,2,],}","x":"\\ud800","n":1e999} trailing', "edge")
    put("alink_json", b"[" * 70 + b"]" * 70, "edge")
    header = b'{"id":"1","code":200,"data":{"bSize":3}}'
    chunk = b"abc"
    crc = 0
    for byte in chunk:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    file_topic = topics.index("/sys/a1B2c3D4e5F/dev/thing/file/download_reply")
    put("payload", bytes([file_topic]) + struct.pack(">H", len(header)) + header + chunk + struct.pack("<H", crc), "edge")
    put("username", b"dev&with&amps&a1B2c3D4e5F", "edge")
    put("wsstream", bytes([1, 0xC0, 1, 0x00, 1, 0xE0, 1, 0x00]), "edge")

    # The thing model (tsl target): the TSL files of the tests (mode 0), and payloads against the
    # thermostat's model (a mode byte picks the topic, as in fuzz_targets/tsl.rs).
    for f in sorted(glob.glob(os.path.join(ROOT, "tests", "tsl", "*", "*.json"))):
        with open(f, "rb") as fh:
            data = fh.read()
        put("tsl", b"\x00" + data[:MAX_SEED - 1] if len(data) >= MAX_SEED else b"\x00" + data, "file")
    for mode, payload in [
            (1, b'{"id":"1","params":{"CurrentTemperature":120.5,"WorkMode":7,"Schedule":{"Hour":25},"History":[1,"x",2,3,4]}}'),
            (11, b'{"id":"2","params":{"offset":7.5,"force":1}}'),
            (12, b'{"id":"3","code":200,"data":{"result":1,"note":2}}'),
            (9, b'{"id":"4","params":{"value":{"Temperature":250.0,"Extra":1},"time":1}}'),
            (8, b'{"id":"5","params":{"properties":{"CurrentTemperature":[{"value":1,"time":2}]},"events":{"Overheat":[{"value":{}}]}}}'),
            (6, b'{"id":"6","code":200,"data":{"TargetTemperature":{"value":50,"version":3}}}')]:
        put("tsl", bytes([mode]) + payload, "payload")

    # Inputs that made a target fail once (the bug is fixed; kept as regression seeds).
    # wsstream: a packet with remaining length 0 split after its first byte was held back until
    # the next message (mqtt.js's DISCONNECT "e0" "00" was lost).
    put("wsstream", bytes([0x01, 0x0A, 0x01, 0x00]), "regress")
    # session: capture times of i64::MIN / i64::MAX ns overflowed in the keep-alive gap.
    put("session",
        bytes([1, 1, 0, 0, 0]) + tlv(1, b"x|securemode=3,signmethod=hmacsha1|")
        + tlv(2, b"dev&a1B2c3D4e5F") + tlv(3, b"00") + tlv(7, struct.pack("<H", 60)) + b"\x00"
        + bytes([12, 1, 0, 0, 0]) + tlv(19, struct.pack("<q", -2**63)) + b"\x00"
        + bytes([12, 1, 0, 0, 0]) + tlv(19, struct.pack("<q", 2**63 - 1)) + b"\x00",
        "regress")

    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(SEEDS) for f in fs)
    count = sum(len(fs) for _, _, fs in os.walk(SEEDS))
    print(f"wrote {count} seeds, {total} bytes, in {SEEDS}")
    for d in sorted(os.listdir(SEEDS)):
        print(f"  {d}: {len(os.listdir(os.path.join(SEEDS, d)))}")


if __name__ == "__main__":
    sys.exit(main())
