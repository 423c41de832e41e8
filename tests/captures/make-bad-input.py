#!/usr/bin/env python3
"""Writes 08-bad-input.pcap: hostile and malformed Alibaba-style MQTT logins that no real SDK
sends, one TCP connection per case (client port 40001 + case number, server 127.0.0.2:1883).

No real client can produce these, so they are written byte by byte. Run it again to regenerate
the file; the output is deterministic.

  1  password that is not a hex sign                      -> CONNACK 4
  2  64 KB client id prefix (spans many TCP segments)     -> CONNACK 2
  3  client id with 3000 parameters                       -> CONNACK 2
  4  client id and user name with invalid UTF-8           -> CONNACK 2
  5  CONNECT whose client id length runs past the packet  (MQTT: malformed)
  6  AT-firmware escaped commas, securemode=9, keep-alive 5 s
  7  PUBLISH with a 1000-level topic after a normal login
  8  CONNECT frame cut by the capture's snap length
  9  MQTT 5: a CONNECT with 3000 user properties, a PUBLISH with topic alias 30 and 25 user
     properties, a property list whose length runs past the packet
 10  MQTT 5 "assigned client id" login (Link SDK 4.1): an empty client id prefix, signed with an
     empty clientId (device secret 00112233445566778899aabbccddeeff); the CONNACK assigns the id

With --large, writes instead the big-payload cases (about 1.3 MB, so tests generate it rather
than keep it): after a normal login, PUBLISHes of
  21 a 1 MB property post with 10 000 properties
  22 JSON nested 10 000 levels deep
  23 JSON with invalid UTF-8 in a string
  24 half a JSON document

With --segments, writes 29-pdu-boundaries.pcap: MQTT packets cut across TCP segments in every
way MQTT's reassembly has to handle (device lab-sensor-01 with its real sign, one connection per
case, client port 40040 + case):
 41  the CONNECT over three TCP segments                                 -> CONNACK 0
 42  a 3000-byte property post over three segments, another property post in the last segment
 43  40 QoS 1 property posts in one segment, their 40 PUBACKs in one segment
 44  a PUBLISH whose two-byte remaining length is split across two segments
 45  a property post cut by the capture's snap length

With --labels, writes device names that Wireshark 4.4 and later escape or cut in the Info column
(one login each, client port 40050 + case, answered by CONNACK 0):
 51  a tab and a C1 control (U+0085) in the device name
 52  "x" and 2100 times "é": the Info column's 4096 bytes end inside a character
 53  a tab, "x" and 2100 times "é": both at once
 54  a device name in Chinese characters
 55  a C1 control (U+0085) alone in the device name
 56  a DEL alone in the device name

With --flood, writes one connection (client port 40031) on which the device sends 100 000 QoS 1
PUBLISHes (packet ids cycling through 1..65535, then reused) and the broker never answers.
"""
import hashlib
import hmac
import struct
import sys

SERVER = bytes([127, 0, 0, 2])
CLIENT = bytes([127, 0, 0, 1])
PK = "a1B2c3D4e5F"


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mstr(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">H", len(b)) + b


def connect(client_id, username, password, keepalive=60):
    flags = 0x02 | (0x80 if username is not None else 0) | (0x40 if password is not None else 0)
    body = mstr("MQTT") + bytes([4, flags]) + struct.pack(">H", keepalive) + mstr(client_id)
    if username is not None:
        body += mstr(username)
    if password is not None:
        body += mstr(password)
    return bytes([0x10]) + varint(len(body)) + body


def connack(code):
    return bytes([0x20, 2, 0, code])


def props(items):
    body = b"".join(items)
    return varint(len(body)) + body


def user_prop(k, v):
    return b"\x26" + mstr(k) + mstr(v)


def connect5(client_id, username, password, properties):
    flags = 0x02 | 0x80 | 0x40
    body = mstr("MQTT") + bytes([5, flags]) + struct.pack(">H", 60) + properties + mstr(client_id)
    body += mstr(username) + mstr(password)
    return bytes([0x10]) + varint(len(body)) + body


def publish5(topic, payload, properties):
    body = mstr(topic) + properties + payload
    return bytes([0x30]) + varint(len(body)) + body


def publish(topic, payload, qos=0):
    body = mstr(topic) + (struct.pack(">H", 1) if qos else b"") + payload
    return bytes([0x30 | (qos << 1)]) + varint(len(body)) + body


class Pcap:
    def __init__(self):
        self.frames = []
        self.t = 1_700_000_000.0

    def packet(self, src, dst, sport, dport, seq, ack, flags, payload=b"", caplen=None):
        tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
        ip_len = 20 + len(tcp) + len(payload)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0x4000, 64, 6, 0, src, dst)
        eth = b"\x00" * 12 + b"\x08\x00"
        frame = eth + ip + tcp + payload
        self.t += 0.001
        self.frames.append((self.t, frame, caplen))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for t, frame, caplen in self.frames:
                cap = frame[: caplen] if caplen else frame
                sec = int(t)
                usec = int(round((t - sec) * 1e6))
                f.write(struct.pack("<IIII", sec, usec, len(cap), len(frame)))
                f.write(cap)


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def session(p, case, client_data, server_data=b"", snap=None):
    """One TCP connection: handshake, the client's bytes (in 1400-byte segments), the server's
    answer, then FIN from both sides."""
    sport = 40000 + case
    c_seq, s_seq = 1000, 5000
    p.packet(CLIENT, SERVER, sport, 1883, c_seq, 0, SYN)
    p.packet(SERVER, CLIENT, 1883, sport, s_seq, c_seq + 1, SYN | ACK)
    c_seq += 1
    s_seq += 1
    p.packet(CLIENT, SERVER, sport, 1883, c_seq, s_seq, ACK)
    for i in range(0, len(client_data), 1400):
        seg = client_data[i : i + 1400]
        p.packet(CLIENT, SERVER, sport, 1883, c_seq, s_seq, PSH | ACK, seg, caplen=snap)
        c_seq += len(seg)
    if server_data:
        p.packet(SERVER, CLIENT, 1883, sport, s_seq, c_seq, PSH | ACK, server_data)
        s_seq += len(server_data)
    p.packet(SERVER, CLIENT, 1883, sport, s_seq, c_seq, FIN | ACK)
    p.packet(CLIENT, SERVER, sport, 1883, c_seq, s_seq + 1, FIN | ACK)
    p.packet(SERVER, CLIENT, 1883, sport, s_seq + 1, c_seq + 1, ACK)


def segments(out):
    p = Pcap()
    secret = b"3f1d0c9e8b7a6d5c4b3a29180f7e6d01"
    dn, ts = "lab-sensor-01", "1700000000000"
    cid = f"{PK}.{dn}|securemode=3,signmethod=hmacsha1,timestamp={ts}|"
    sign = hmac.new(secret, f"clientId{PK}.{dn}deviceName{dn}productKey{PK}timestamp{ts}".encode(), hashlib.sha1).hexdigest()
    login = connect(cid, f"{dn}&{PK}", sign)
    post = f"/sys/{PK}/{dn}/thing/event/property/post"

    def alink(i, pad=0):
        return ('{"id":"%d","version":"1.0","params":{"temperature":%d.5%s},"method":"thing.event.property.post"}'
                % (i, 20 + i, ',"note":"' + "x" * pad + '"' if pad else "")).encode()

    def publish1(topic, payload, pid):
        body = mstr(topic) + struct.pack(">H", pid) + payload
        return bytes([0x32]) + varint(len(body)) + body

    def conn(case, client_segments, server_segments=(), snap=None):
        sport, c_seq, s_seq = 40040 + case, 1000, 5000
        p.packet(CLIENT, SERVER, sport, 1883, c_seq, 0, SYN)
        p.packet(SERVER, CLIENT, 1883, sport, s_seq, c_seq + 1, SYN | ACK)
        c_seq, s_seq = c_seq + 1, s_seq + 1
        p.packet(CLIENT, SERVER, sport, 1883, c_seq, s_seq, ACK)
        for i, seg in enumerate(client_segments):
            cut = snap if snap and i == len(client_segments) - 1 else None
            p.packet(CLIENT, SERVER, sport, 1883, c_seq, s_seq, PSH | ACK, seg, caplen=cut)
            c_seq += len(seg)
            if i == 0 or len(server_segments) == 0:
                continue
        for seg in server_segments:
            p.packet(SERVER, CLIENT, 1883, sport, s_seq, c_seq, PSH | ACK, seg)
            s_seq += len(seg)
        p.packet(CLIENT, SERVER, sport, 1883, c_seq, s_seq, FIN | ACK)
        p.packet(SERVER, CLIENT, 1883, sport, s_seq, c_seq + 1, FIN | ACK)
        p.packet(CLIENT, SERVER, sport, 1883, c_seq + 1, s_seq + 1, ACK)

    def thirds(b):
        n = len(b) // 3
        return [b[:n], b[n : 2 * n], b[2 * n :]]

    # 41: the CONNECT in three pieces.
    conn(41, thirds(login), [connack(0)])
    # 42: login, then a big post over three segments whose last one also holds another post.
    big, small = publish1(post, alink(1, 3000), 1), publish1(post, alink(2), 2)
    parts = thirds(big)
    conn(42, [login, parts[0], parts[1], parts[2] + small], [connack(0), b"\x40\x02\x00\x01\x40\x02\x00\x02"])
    # 43: 40 posts in one segment, 40 PUBACKs in one segment.
    posts = b"".join(publish1(post, alink(i), i) for i in range(1, 41))
    acks = b"".join(b"\x40\x02" + struct.pack(">H", i) for i in range(1, 41))
    conn(43, [login, posts], [connack(0), acks])
    # 44: the remaining length (two bytes) split between segments.
    pub = publish1(post, alink(7, 200), 7)
    assert pub[1] & 0x80 and not pub[2] & 0x80
    conn(44, [login, pub[:2], pub[2:]], [connack(0)])
    # 45: a post cut by the snap length (54 bytes of headers + 60 of MQTT).
    conn(45, [login, publish1(post, alink(9), 9)], [connack(0)], snap=54 + 60)
    p.write(out)


def large(out):
    p = Pcap()
    login = connect(f"{PK}&big-01|securemode=3,signmethod=hmacsha1,timestamp=1700000000000|", f"big-01&{PK}", "0" * 40)
    post = f"/sys/{PK}/big-01/thing/event/property/post"
    props = ",".join(f'"p{i}":{{"value":"{"x" * 80}","time":1700000000000}}' for i in range(10000))
    cases = [
        (21, ('{"id":"1","version":"1.0","params":{' + props + '},"method":"thing.event.property.post"}').encode()),
        (22, b'{"id":"2","params":' + b"[" * 10000 + b"]" * 10000 + b"}"),
        (23, b'{"id":"3","params":{"name":"bad \xff\xfe utf-8"}}'),
        (24, b'{"id":"4","version":"1.0","params":{"temperature":21.'),
    ]
    for case, payload in cases:
        session(p, case, login + publish(post, payload), connack(0))
    # Member names written with escapes: the platform's reply code is still code 460.
    reply = publish(post + "_reply", b'{"co\\u0064e":460,"id":"5","s\\u0079s":{"ack":1}}')
    session(p, 25, login, connack(0) + reply)
    p.write(out)


def labels(out):
    p = Pcap()
    names = {
        51: "tab\there\u0085c1-01",
        52: "x" + "\u00e9" * 2100,
        53: "\tx" + "\u00e9" * 2100,
        54: "\u4f20\u611f\u5668-01",
        55: "next-line\u0085only-01",
        56: "delete\x7fonly-01",
    }
    for case, dn in names.items():
        cid = f"{PK}.dev-{case}|securemode=3,signmethod=hmacsha1,timestamp=1700000000000|"
        session(p, case, connect(cid, f"{dn}&{PK}", "0" * 40), connack(0))
    p.write(out)


def flood(out):
    p = Pcap()
    sport, c_seq, s_seq = 40031, 1000, 5000
    p.packet(CLIENT, SERVER, sport, 1883, c_seq, 0, SYN)
    p.packet(SERVER, CLIENT, 1883, sport, s_seq, c_seq + 1, SYN | ACK)
    c_seq, s_seq = c_seq + 1, s_seq + 1
    login = connect(f"{PK}&flood-01|securemode=3,signmethod=hmacsha1,timestamp=1700000000000|", f"flood-01&{PK}", "0" * 40)
    p.packet(CLIENT, SERVER, sport, 1883, c_seq, s_seq, PSH | ACK, login)
    c_seq += len(login)
    p.packet(SERVER, CLIENT, 1883, sport, s_seq, c_seq, PSH | ACK, connack(0))
    s_seq += 4
    topic = f"/sys/{PK}/flood-01/thing/event/property/post"
    for i in range(100_000):
        body = mstr(topic) + struct.pack(">H", i % 65535 + 1) + b'{"id":"%d","params":{"t":%d}}' % (i, i)
        pdu = bytes([0x32]) + varint(len(body)) + body
        p.packet(CLIENT, SERVER, sport, 1883, c_seq, s_seq, PSH | ACK, pdu)
        c_seq = (c_seq + len(pdu)) % (1 << 32)
    p.write(out)


def main(out):
    p = Pcap()
    ok = f"|securemode=3,signmethod=hmacsha1,timestamp=1700000000000|"
    session(p, 1, connect(f"{PK}&bad-01{ok}", f"bad-01&{PK}", "not-a-hex-sign!"), connack(4))
    session(p, 2, connect("x" * 65000 + "|securemode=2,signmethod=hmacsha256|", f"bad-02&{PK}", "0" * 64), connack(2))
    params = ",".join(f"k{i}=v{i}" for i in range(3000))
    session(p, 3, connect(f"bad-03|securemode=3,signmethod=hmacsha1,{params}|", f"bad-03&{PK}", "0" * 40), connack(2))
    session(p, 4, connect(b"bad-04\xff\xfe|securemode=3,signmethod=hmacsha1|", b"bad-04\xc3&" + PK.encode(), "0" * 40), connack(2))
    # Client id length field says 500; the packet ends after 20 bytes of it.
    broken_body = mstr("MQTT") + bytes([4, 0xC2]) + struct.pack(">H", 60) + struct.pack(">H", 500) + b"a1B2c3D4e5F.bad-05|s"
    session(p, 5, bytes([0x10]) + varint(len(broken_body)) + broken_body)
    session(
        p,
        6,
        connect(f"{PK}.bad-06|securemode=9\\,signmethod=hmacsha1\\,timestamp=789|", f"bad-06&{PK}", "0" * 40, keepalive=5),
        connack(4),
    )
    deep = f"/sys/{PK}/bad-07" + "/x" * 1000
    session(p, 7, connect(f"{PK}&bad-07{ok}", f"bad-07&{PK}", "0" * 40) + publish(deep, b'{"id":"1"}'), connack(0))
    session(p, 8, connect(f"{PK}&bad-08{ok}", f"bad-08&{PK}", "0" * 40), connack(4), snap=90)
    many = props([user_prop(f"k{i}", "v") for i in range(3000)])
    alias = props([b"\x23" + struct.pack(">H", 30)] + [user_prop(f"u{i}", "v") for i in range(25)])
    broken = varint(200) + b"\x26" + mstr("k")  # says 200 bytes of properties, has 4
    session(
        p,
        9,
        connect5(f"{PK}&bad-09|securemode=3,signmethod=hmacsha256,timestamp=1700000000000|", f"bad-09&{PK}", "0" * 64, many)
        + publish5(f"/{PK}/bad-09/user/update", b"{}", alias)
        + publish5(f"/{PK}/bad-09/user/update", b"{}", broken),
        b"\x20\x03\x00\x00\x00",
    )
    ts = "2524608000000"
    sign = hmac.new(b"00112233445566778899aabbccddeeff", f"clientIddeviceNamebad-10productKey{PK}timestamp{ts}".encode(), hashlib.sha256).hexdigest().upper()
    assigned = props([b"\x12" + mstr("a1B2c3D4e5F.bad-10.assigned-7f3a")])
    session(
        p,
        10,
        connect5(f"|timestamp={ts},_ss=1,securemode=2,signmethod=hmacsha256,ext=3,|", f"bad-10&{PK}", sign, props([])),
        b"\x20" + varint(2 + len(assigned)) + b"\x00\x00" + assigned,
    )
    p.write(out)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--large"]:
        large(sys.argv[2])
    elif sys.argv[1:2] == ["--segments"]:
        segments(sys.argv[2] if len(sys.argv) > 2 else "29-pdu-boundaries.pcap")
    elif sys.argv[1:2] == ["--flood"]:
        flood(sys.argv[2])
    elif sys.argv[1:2] == ["--labels"]:
        labels(sys.argv[2])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "08-bad-input.pcap")
