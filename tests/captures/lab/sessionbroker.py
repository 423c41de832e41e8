"""MQTT 3.1.1 broker for the per-session captures 18-20, with the platform's per-device rules that
mosquitto cannot express (built on the helpers of minibroker.py; device port 1883 only):

* every CONNECT is checked the Alibaba way (minibroker.check_login); a bad one gets CONNACK 4;
* topic authorization like the platform's: a device may use only topics that carry its own
  '{productKey}/{deviceName}' pair (/sys/{pk}/{dn}/..., /{pk}/{dn}/user/..., /ext/.../{pk}/{dn}, ...);
  - a SUBSCRIBE filter outside that gets return code 0x80 in the SUBACK (the others are granted,
    QoS at most 1, as on the platform);
  - a PUBLISH to such a topic is DROPPED: not routed and, at QoS 1, never acknowledged (no PUBACK);
* one connection per device: when a (pk, dn) logs in again, the broker closes the OLDER TCP
  connection (FIN, no MQTT packet), as the platform kicks the earlier session;
* keep-alive is NOT enforced (the platform would close after 1.5 x keep-alive; this broker lets a
  silent device come back);
* no echo to the publisher; QoS 2 is not supported (granted as 1).
Usage: sessionbroker.py   (runs until killed; logs to stderr)
"""
import asyncio
import sys

import minibroker
import session_lab  # noqa: F401  (registers lab-sensor-17..21 in lab.DEVICES)
from minibroker import pkt, s16, match, check_login

clients = set()


def log(*a):
    print("sessionbroker:", *a, file=sys.stderr, flush=True)


def allowed(pk, dn, topic):
    parts = topic.split("/")
    return any(parts[i] == pk and parts[i + 1] == dn for i in range(len(parts) - 1))


class Conn:
    def __init__(self, r, w):
        self.r, self.w = r, w
        self.subs, self.pid, self.name, self.ident = {}, 0, "?", None
        self.peer = w.get_extra_info("peername")

    def send(self, data):
        self.w.write(data)

    def deliver(self, topic, payload, qos):
        if qos:
            self.pid = self.pid % 65535 + 1
            self.send(pkt(0x32, s16(topic) + self.pid.to_bytes(2, "big") + payload))
        else:
            self.send(pkt(0x30, s16(topic) + payload))

    read_packet = minibroker.Conn.read_packet

    async def run(self):
        try:
            while True:
                first, body = await self.read_packet()
                typ = first >> 4
                if typ == 1:
                    if not await self.on_connect(body):
                        break
                elif self.ident is None:
                    log(self.peer, "packet before CONNECT")
                    break
                elif typ == 3:
                    qos = (first >> 1) & 3
                    tl = int.from_bytes(body[:2], "big")
                    topic, rest = body[2:2 + tl].decode(), body[2 + tl:]
                    pid = rest[:2] if qos else b""
                    rest = rest[2:] if qos else rest
                    if not allowed(*self.ident, topic):
                        log(self.name, "PUBLISH DROPPED (not authorized, no PUBACK)", topic, "pid", pid.hex())
                        continue
                    if qos:
                        self.send(pkt(0x40, pid))
                    log(self.name, "PUBLISH", topic, "qos", qos, rest[:80])
                    for c in list(clients):
                        if c is self:
                            continue
                        q = max((sq for f, sq in c.subs.items() if match(f, topic)), default=None)
                        if q is not None:
                            c.deliver(topic, rest, min(q, qos))
                elif typ == 8:
                    i, granted = 2, bytearray()
                    while i < len(body):
                        tl = int.from_bytes(body[i:i + 2], "big")
                        f = body[i + 2:i + 2 + tl].decode()
                        if allowed(*self.ident, f):
                            q = min(body[i + 2 + tl], 1)
                            self.subs[f] = q
                            granted.append(q)
                        else:
                            granted.append(0x80)
                            log(self.name, "SUBSCRIBE refused (0x80)", f)
                        i += 3 + tl
                    self.send(pkt(0x90, body[:2] + bytes(granted)))
                elif typ == 10:
                    i = 2
                    while i < len(body):
                        tl = int.from_bytes(body[i:i + 2], "big")
                        self.subs.pop(body[i + 2:i + 2 + tl].decode(), None)
                        i += 2 + tl
                    self.send(pkt(0xB0, body[:2]))
                elif typ == 12:
                    self.send(b"\xd0\x00")
                elif typ == 14:
                    log(self.name, "DISCONNECT")
                    break
                await self.w.drain()
        except (asyncio.IncompleteReadError, ConnectionError) as e:
            log(self.name, self.peer, "connection ended:", type(e).__name__)
        finally:
            clients.discard(self)
            self.w.close()

    async def on_connect(self, body):
        i = 2 + int.from_bytes(body[:2], "big")
        flags = body[i + 1]
        keepalive = int.from_bytes(body[i + 2:i + 4], "big")
        i += 4
        fields = []
        for present in (True, bool(flags & 0x04), bool(flags & 0x04), bool(flags & 0x80), bool(flags & 0x40)):
            if present:
                ln = int.from_bytes(body[i:i + 2], "big")
                fields.append(body[i + 2:i + 2 + ln].decode("utf-8", "replace"))
                i += 2 + ln
            else:
                fields.append("")
        cid, user, pw = fields[0], fields[3], fields[4]
        self.name = user or cid
        ok, _ = check_login(cid, user, pw)
        log(self.name, self.peer, "CONNECT keepalive", keepalive, cid, "ok" if ok else "REFUSED")
        if not ok:
            self.send(b"\x20\x02\x00\x04")
            await self.w.drain()
            return False
        dn, pk = user.split("&", 1)
        self.ident = (pk, dn)
        for old in [c for c in clients if c.ident == self.ident]:
            log(old.name, old.peer, "KICKED: same device logged in again from", self.peer)
            clients.discard(old)
            old.w.close()               # FIN from the broker on the older connection
        self.send(b"\x20\x02\x00\x00")
        clients.add(self)
        return True


async def main():
    async def dev(r, w):
        await Conn(r, w).run()
    s1 = await asyncio.start_server(dev, minibroker.lab.HOST, minibroker.lab.PORT)
    async with s1:
        await s1.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
