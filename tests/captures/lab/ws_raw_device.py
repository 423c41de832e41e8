"""Device of capture 25: a lab-written minimal WebSocket client (raw socket, RFC 6455, masked client
frames, Sec-WebSocket-Protocol: mqtt) speaking MQTT 3.1.1 to mosquitto's websockets listener on
ws://127.0.0.1:80/mqtt, built to put MQTT packets into WebSocket frames the way no standard client
does (the MQTT spec allows MQTT packets to span WebSocket frames and frames to hold several packets):
  CONNECT (securemode=3)                         one binary frame           -> CONNACK
  SUBSCRIBE id 1 post_reply QoS 1                one binary frame           -> SUBACK
  (a1) PUBLISH id 2 QoS 1, ~600-byte post id "1" split over a binary frame with FIN=0 and a
       continuation frame with FIN=1 (one fragmented WebSocket message)    -> PUBACK 2, post_reply "1"
  (a2) PUBLISH id 3 QoS 1, ~600-byte post id "2" split over two complete binary messages (FIN=1 each,
       each holding half of the MQTT packet)                              -> PUBACK 3, post_reply "2"
  (b)  PUBLISH id 4 QoS 1 post id "3" + PINGREQ in ONE binary frame       -> PUBACK 4, PINGRESP, post_reply "3"
  DISCONNECT                                     one binary frame, then a WebSocket close frame (1000)
Each frame is sent in its own TCP segment (TCP_NODELAY, short pauses).  The masking keys are fixed
so that re-recording gives the same frame bytes.
Usage: ws_raw_device.py [DN] [PORT]   (log of every frame sent/received on stderr)
"""
import base64
import os
import socket
import struct
import sys
import time

import lab
import transport_lab as tl

MASKS = [bytes([0x1a, 0x2b, 0x3c, 0x4d ^ i]) for i in range(16)]
mask_i = [0]


def log(*a):
    print("wsdevice:", *a, file=sys.stderr, flush=True)


def varint(n):
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s16(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack(">H", len(x)) + x


def mqtt_pkt(first, body):
    return bytes([first]) + varint(len(body)) + body


def connect(cid, user, pw, keepalive=60):
    return mqtt_pkt(0x10, s16("MQTT") + bytes([4, 0xC2]) + struct.pack(">H", keepalive) + s16(cid) + s16(user) + s16(pw))


def subscribe(pid, topic, qos):
    return mqtt_pkt(0x82, struct.pack(">H", pid) + s16(topic) + bytes([qos]))


def publish1(pid, topic, payload):
    return mqtt_pkt(0x32, s16(topic) + struct.pack(">H", pid) + payload.encode())


PINGREQ, DISCONNECT = b"\xc0\x00", b"\xe0\x00"
NAMES = {2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 9: "SUBACK", 13: "PINGRESP"}


class WS:
    def __init__(self, host, port, path="/mqtt"):
        self.s = socket.create_connection((host, port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(bytes(range(1, 17))).decode()     # fixed nonce (lab)
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n"
               "User-Agent: aliiot-lab-raw-ws/1\r\n\r\n" % (path, host, port, key))
        self.s.sendall(req.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.s.recv(4096)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        log("handshake:", head.split(b"\r\n")[0].decode())
        if b" 101 " not in head.split(b"\r\n")[0] or b"mqtt" not in head.lower():
            raise SystemExit("no 101 with protocol mqtt: %r" % head)
        self.mqtt_in = b""

    def frame(self, payload, opcode=2, fin=True, pause=0.15):
        m = MASKS[mask_i[0] % len(MASKS)]
        mask_i[0] += 1
        n = len(payload)
        hdr = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.s.sendall(hdr + m + bytes(b ^ m[i % 4] for i, b in enumerate(payload)))
        log("sent frame opcode %d FIN=%d len %d: %s" % (opcode, fin, n, payload[:24].hex()))
        time.sleep(pause)

    def _need(self, n):
        while len(self.buf) < n:
            d = self.s.recv(4096)
            if not d:
                raise EOFError
            self.buf += d

    def read_frame(self):
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
        return b0 & 0x0F, bool(b0 & 0x80), payload

    def read_mqtt(self):
        """-> next MQTT packet (first byte, body) from the server's byte stream."""
        while True:
            if len(self.mqtt_in) >= 2:
                n, mul, i = 0, 1, 1
                while i < len(self.mqtt_in):
                    b = self.mqtt_in[i]
                    n += (b & 0x7F) * mul
                    mul *= 128
                    i += 1
                    if not b & 0x80:
                        break
                else:
                    i = None
                if i is not None and len(self.mqtt_in) >= i + n:
                    first, body = self.mqtt_in[0], self.mqtt_in[i:i + n]
                    self.mqtt_in = self.mqtt_in[i + n:]
                    log("got MQTT", NAMES.get(first >> 4, first >> 4), body[:60])
                    return first, body
            op, fin, payload = self.read_frame()
            log("got frame opcode %d FIN=%d len %d" % (op, fin, len(payload)))
            if op in (0, 2):
                self.mqtt_in += payload
            elif op == 8:
                raise EOFError("close frame")

    def expect(self, *types):
        got = []
        for _ in types:
            got.append(self.read_mqtt()[0] >> 4)
        if sorted(got) != sorted(types):
            raise SystemExit("expected %s, got %s" % (types, got))


def run(dn="lab-sensor-25", port=80):
    cid, user, pw, _ts = tl.login(dn, 3)
    ws = WS(lab.HOST, port)
    ws.frame(connect(cid, user, pw))
    ws.expect(2)
    ws.frame(subscribe(1, tl.reply_topic(dn), 1))
    ws.expect(9)
    note = "lab padding so that this Alink property post is about 600 bytes long; " * 7
    # (a1) one MQTT PUBLISH in one fragmented WebSocket message: binary FIN=0 + continuation FIN=1
    p = publish1(2, tl.post_topic(dn), tl.post_payload("1", temperature=21.5, note=note[:470]))
    log("a1 PUBLISH length", len(p))
    half = len(p) // 2
    ws.frame(p[:half], opcode=2, fin=False)
    ws.frame(p[half:], opcode=0, fin=True)
    ws.expect(4, 3)
    # (a2) one MQTT PUBLISH in two complete WebSocket binary messages
    p = publish1(3, tl.post_topic(dn), tl.post_payload("2", temperature=21.75, note=note[:470]))
    log("a2 PUBLISH length", len(p))
    half = len(p) // 2
    ws.frame(p[:half], opcode=2, fin=True)
    ws.frame(p[half:], opcode=2, fin=True)
    ws.expect(4, 3)
    # (b) two MQTT packets in one WebSocket frame
    ws.frame(publish1(4, tl.post_topic(dn), tl.post_payload("3", temperature=22.0)) + PINGREQ)
    ws.expect(4, 13, 3)
    ws.frame(DISCONNECT, pause=0.1)
    try:
        ws.frame(struct.pack(">H", 1000), opcode=8, pause=0)
        while True:
            op, fin, payload = ws.read_frame()
            log("after DISCONNECT: frame opcode %d len %d" % (op, len(payload)))
            if op == 8:
                break
    except (EOFError, OSError) as e:
        log("after DISCONNECT:", repr(e))
    ws.s.close()
    log("done")


if __name__ == "__main__":
    a = sys.argv[1:]
    run(*(a[:1] or ["lab-sensor-25"]), *([int(a[1])] if len(a) > 1 else []))
