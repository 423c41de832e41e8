"""Minimal MQTT 3.1.1 broker that behaves like the Alibaba platform where mosquitto cannot:

* it never sends a message back to the connection that published it (the platform does not echo an
  RRPC response on /ext/rrpc/{id}/... to the device although the device subscribed that filter);
* it checks every CONNECT the Alibaba way (reference sections 2.5 and 3.1) and refuses bad ones
  with CONNACK 4; clients on the platform port (11884) are not checked;
* with MINIBROKER_SS=1, a login whose client id says _ss=1 is subscribed by the broker to its
  device's system topics /sys/{pk}/{dn}/# and synchronous calls /ext/rrpc/+/sys/{pk}/{dn}/# (the
  platform's server-side subscription, which the Link SDK 4.x relies on: it subscribes to no reply
  topic itself);
* dynamic registration: after CONNECT with authType=register it pushes /ext/register with the
  deviceSecret, with authType=regnwl it pushes /ext/regnwl with clientId + deviceToken (the device
  does not subscribe); connwl logins are checked against the issued deviceToken.
Handles CONNECT, SUBSCRIBE (+/# filters), UNSUBSCRIBE, PUBLISH QoS 0/1, PUBACK, PINGREQ, DISCONNECT.
Usage: minibroker.py   (device port 1883, platform port 11884; runs until killed)
"""
import asyncio
import json
import os
import sys

import lab

clients = set()


def log(*a):
    print("minibroker:", *a, file=sys.stderr, flush=True)


def enc_len(n):
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pkt(first, body):
    return bytes([first]) + enc_len(len(body)) + body


def s16(s):
    b = s.encode() if isinstance(s, str) else s
    return len(b).to_bytes(2, "big") + b


def match(flt, topic):
    f, t = flt.split("/"), topic.split("/")
    for i, x in enumerate(f):
        if x == "#":
            return True
        if i >= len(t) or (x != "+" and x != t[i]):
            return False
    return len(f) == len(t)


def params_of(cid):
    first, last = cid.find("|"), cid.rfind("|")
    prefix = cid[:first] if first >= 0 else cid
    ps = {}
    if 0 <= first < last:
        for item in cid[first + 1:last].split(","):
            if "=" in item:
                k, v = item.split("=", 1)
                ps[k.strip().lower()] = v.strip()
    return prefix, ps


def check_login(cid, user, pw):
    """-> (ok, dynreg kind or None)"""
    prefix, ps = params_of(cid)
    if "&" not in user:
        return False, None
    dn, pk = user.split("&", 1)
    auth = ps.get("authtype")
    if auth in ("register", "regnwl"):
        if pk != lab.DYN_PK:
            return False, None
        want = lab.hmac_hex(ps.get("signmethod", "hmacsha256"), lab.DYN_PS,
                            "deviceName%sproductKey%srandom%s" % (dn, pk, ps.get("random", "")))
        return want.lower() == pw.lower(), auth
    if auth == "connwl":
        return (pk, dn, prefix, pw) == (lab.DYN_PK, lab.DYN_NWL_DN, lab.DYN_NWL_CLIENTID, lab.DYN_NWL_TOKEN), None
    sec = lab.DEVICES.get((pk, dn)) or (lab.DYN_REGISTER_SECRET if (pk, dn) == (lab.DYN_PK, lab.DYN_REGISTER_DN) else None)
    if sec is None:
        return False, None
    want = lab.hmac_hex(ps.get("signmethod", "hmacmd5"), sec, lab.sign_content(prefix, dn, pk, ps.get("timestamp")))
    return want.lower() == pw.lower(), None


class Conn:
    def __init__(self, r, w, platform):
        self.r, self.w, self.platform = r, w, platform
        self.subs, self.pid, self.name = {}, 0, "?"

    def send(self, data):
        self.w.write(data)

    def deliver(self, topic, payload, qos):
        if qos:
            self.pid = self.pid % 65535 + 1
            self.send(pkt(0x32, s16(topic) + self.pid.to_bytes(2, "big") + payload))
        else:
            self.send(pkt(0x30, s16(topic) + payload))

    async def read_packet(self):
        h = await self.r.readexactly(1)
        n, mul = 0, 1
        while True:
            b = (await self.r.readexactly(1))[0]
            n += (b & 0x7F) * mul
            mul *= 128
            if not b & 0x80:
                break
        return h[0], await self.r.readexactly(n)

    async def run(self):
        try:
            while True:
                first, body = await self.read_packet()
                typ = first >> 4
                if typ == 1:
                    if not await self.on_connect(body):
                        break
                elif typ == 3:
                    qos = (first >> 1) & 3
                    tl = int.from_bytes(body[:2], "big")
                    topic, rest = body[2:2 + tl].decode(), body[2 + tl:]
                    if qos:
                        self.send(pkt(0x40, rest[:2]))
                        rest = rest[2:]
                    log(self.name, "PUBLISH", topic, rest[:80])
                    for c in list(clients):
                        if c is self:
                            continue        # no echo to the publisher
                        q = max((sq for f, sq in c.subs.items() if match(f, topic)), default=None)
                        if q is not None:
                            c.deliver(topic, rest, min(q, qos))
                elif typ == 8:
                    i, granted = 2, bytearray()
                    while i < len(body):
                        tl = int.from_bytes(body[i:i + 2], "big")
                        f = body[i + 2:i + 2 + tl].decode()
                        q = min(body[i + 2 + tl], 1)
                        self.subs[f] = q
                        granted.append(q)
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
                    break
                await self.w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            clients.discard(self)
            self.w.close()

    async def on_connect(self, body):
        i = 2 + int.from_bytes(body[:2], "big")
        flags = body[i + 1]
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
        ok, dyn = (True, None) if self.platform else check_login(cid, user, pw)
        log(self.name, "CONNECT", cid, "ok" if ok else "REFUSED", dyn or "")
        if not ok:
            self.send(b"\x20\x02\x00\x04")
            await self.w.drain()
            return False
        self.send(b"\x20\x02\x00\x00")
        clients.add(self)
        _, ps = params_of(cid)
        if os.environ.get("MINIBROKER_SS") == "1" and ps.get("_ss") == "1" and "&" in user:
            dn, pk = user.split("&", 1)
            self.subs["/sys/%s/%s/#" % (pk, dn)] = 1
            self.subs["/ext/rrpc/+/sys/%s/%s/#" % (pk, dn)] = 1
        if dyn:
            await self.w.drain()
            await asyncio.sleep(0.2)
            dn, pk = user.split("&", 1)
            if dyn == "register":
                self.deliver("/ext/register", json.dumps({"productKey": pk, "deviceName": dn,
                                                          "deviceSecret": lab.DYN_REGISTER_SECRET}).encode(), 0)
            else:
                self.deliver("/ext/regnwl", json.dumps({"clientId": lab.DYN_NWL_CLIENTID, "productKey": pk,
                                                        "deviceName": dn, "deviceToken": lab.DYN_NWL_TOKEN}).encode(), 0)
        return True


async def main():
    async def dev(r, w):
        await Conn(r, w, False).run()

    async def plat(r, w):
        await Conn(r, w, True).run()
    s1 = await asyncio.start_server(dev, lab.HOST, lab.PORT)
    s2 = await asyncio.start_server(plat, lab.HOST, lab.PLATFORM_PORT)
    async with s1, s2:
        await asyncio.gather(s1.serve_forever(), s2.serve_forever())


if __name__ == "__main__":
    asyncio.run(main())
