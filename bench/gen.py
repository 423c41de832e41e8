#!/usr/bin/env python3
"""Writes a large, realistic Alibaba Cloud IoT capture (classic pcap) for benchmarks.

    bench/gen.py --frames 100000 --out bench/out/100k.pcap [--seed 1] [--concurrency 300] [--posts 3-12]

Every device is one MQTT 3.1.1 session on its own TCP connection (unique client IP/port,
server 106.15.83.29:1883): SYN/SYN-ACK/ACK, CONNECT with an Alibaba client id, user name
`dn&pk` and the HMAC password of the reference §2.5, CONNACK 0, SUBSCRIBE property/set and
post_reply, QoS 1 property posts (PUBACK, the platform's post_reply a few ms later, a few per
thousand with an error code), a service call and a property set from the platform with the
device's replies, PINGREQ/PINGRESP, DISCONNECT, FIN. Sessions overlap in time (about
--concurrency open at once); seq/ack numbers and lengths are consistent, so Wireshark's TCP
analysis flags nothing. IP/TCP checksums are left 0 (Wireshark does not check them by default).

Also writes <out without .pcap>.json (frames, devices, products, a sample device, ...),
<...>.keys (`productKey,deviceName,deviceSecret` lines, for `-o aliiot.keys_file:...`) and
<...>-tsl/ (a thing model per product, for `-o aliiot.tsl_folder:...`; every value the capture
carries is within it).
Standard library only; deterministic for a given --seed and --frames.
"""
import argparse, hashlib, heapq, hmac, json, os, random, struct, sys, time

EPOCH = 1717200000                      # 2024-06-01 00:00:00 UTC: capture start
SERVER_IP, SERVER_PORT = bytes([106, 15, 83, 29]), 1883
SERVER_MAC, ROUTER_MAC = bytes.fromhex("00163e0a1b2c"), bytes.fromhex("eeffffffffff")
KEEPALIVE = 60
SYN, FIN, PSH_ACK, ACK, FIN_ACK, SYN_ACK = 0x02, 0x01, 0x18, 0x10, 0x11, 0x12
HDR = struct.Struct("!6s6sHBBHHHBBH4s4sHHIIBBHHH")    # Ethernet + IPv4 + TCP (no options)
REC = struct.Struct("<IIII")                          # pcap record header
MSS_OPT = bytes([2, 4, 0x05, 0xB4])                   # SYN / SYN-ACK: MSS 1460

# Frames per block of a session (see session()): connect, post, service call, property set, ping, close.
CONNECT, POST, SERVICE, PROPSET, PING, CLOSE = range(6)
FRAMES = {CONNECT: 10, POST: 4, SERVICE: 3, PROPSET: 4, PING: 3, CLOSE: 4}

# Products: device-name pattern, property post params, a service (id, params, output), property-set params.
R = random.Random
PRODUCTS = [
    ("th-{:05d}", lambda r: {"temperature": round(r.uniform(16, 32), 1), "humidity": r.randint(25, 80)},
     ("Calibrate", lambda r: {"offset": round(r.uniform(-1, 1), 1)}, {"result": 1}),
     lambda r: {"targetTemperature": float(r.randint(18, 26))}),
    ("EM{:08d}", lambda r: {"voltage": round(r.uniform(215, 235), 1), "current": round(r.uniform(0, 16), 2),
                            "power": round(r.uniform(0, 3500), 1)},
     ("Reboot", lambda r: {"delay": r.randint(0, 10)}, {"code": 0}),
     lambda r: {"ReportInterval": r.choice([10, 30, 60])}),
    ("light_{:06x}", lambda r: {"LightSwitch": r.randint(0, 1), "Brightness": r.randint(0, 100),
                                "ColorTemperature": r.choice([2700, 4000, 6500])},
     ("ToggleLight", lambda r: {"transition": r.randint(0, 3)}, {"LightSwitch": 1}),
     lambda r: {"Brightness": r.randint(10, 100)}),
    ("aq-sensor-{:d}", lambda r: {"PM25": r.randint(3, 160), "CO2": r.randint(400, 1800),
                                  "temperature": round(r.uniform(15, 30), 1)},
     ("StartSelfTest", lambda r: {"mode": r.choice(["quick", "full"])}, {"passed": 1}),
     lambda r: {"AlarmThreshold": r.choice([75, 100, 150])}),
    ("A4CF12{:06X}", lambda r: {"PowerSwitch": r.randint(0, 1), "RealTimePower": round(r.uniform(0, 2000), 1)},
     ("SetCountdown", lambda r: {"seconds": r.choice([60, 300, 900])}, {"accepted": 1}),
     lambda r: {"PowerSwitch": r.randint(0, 1)}),
]
ERRORS = [(460, "request parameter error"), (6813, "topic illegal")]


def tsl(pk, i):
    """A thing model for product i: its posted and set properties, its service, all in range."""
    r = R(i)
    post, (sid, mkin, out), mkset = PRODUCTS[i][1], PRODUCTS[i][2], PRODUCTS[i][3]

    def dtype(name, sample):
        if isinstance(sample, bool):
            return {"type": "bool", "specs": {"0": "false", "1": "true"}}
        if isinstance(sample, int):
            return {"type": "int", "specs": {"min": "-100000", "max": "100000", "step": "1", "unit": "u",
                                              "unitName": name + " unit"}}
        if isinstance(sample, float):
            return {"type": "double", "specs": {"min": "-100000", "max": "100000", "unit": "u",
                                                 "unitName": name + " unit"}}
        return {"type": "text", "specs": {"length": "64"}}

    def params(d):
        return [{"identifier": k, "name": k.capitalize(), "dataType": dtype(k, v)} for k, v in d.items()]

    props = {**post(r), **mkset(r)}
    return {"schema": "https://iotx-tsl.oss-ap-southeast-1.aliyuncs.com/schema.json",
            "profile": {"productKey": pk},
            "properties": [dict(p, accessMode="rw", required=False) for p in params(props)],
            "events": [{"identifier": "post", "name": "post", "type": "info", "required": True,
                        "method": "thing.event.property.post", "outputData": params(props)}],
            "services": [{"identifier": sid, "name": sid, "callType": "async", "required": False,
                          "method": "thing.service." + sid, "inputData": params(mkin(r)),
                          "outputData": params(out)}]}
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


MQTT_PACKETS = 0


def count_mqtt(payload):
    """Adds the MQTT packets of one segment (every segment holds whole packets) to MQTT_PACKETS."""
    global MQTT_PACKETS
    i = 0
    while i < len(payload):
        n, shift, j = 0, 0, i + 1
        while True:
            b = payload[j]
            n |= (b & 0x7F) << shift
            shift, j = shift + 7, j + 1
            if not b & 0x80:
                break
        i = j + n
        MQTT_PACKETS += 1


def mqtt(first, body):
    """Fixed header (first byte + remaining-length varint) + body."""
    n, out = len(body), bytearray([first])
    while True:
        n, b = n >> 7, n & 0x7F
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out) + body


def s16(text):
    b = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(b)) + b


def publish(topic, payload, pid=None):
    var = s16(topic) + (struct.pack("!H", pid) if pid else b"")
    return mqtt(0x32 if pid else 0x30, var + payload.encode())


def alink_req(mid, method, params):
    return f'{{"id":"{mid}","version":"1.0","params":{jdump(params)},"method":"{method}"}}'


def alink_reply(mid, method, code=200, message="success", data="{}"):
    return (f'{{"code":{code},"data":{data},"id":"{mid}","message":"{message}",'
            f'"method":"{method}","version":"1.0"}}')


def jdump(o):
    return json.dumps(o, separators=(",", ":"))


class Conn:
    """One TCP connection; builds frames with consistent seq/ack numbers."""

    def __init__(self, cip, cport, r):
        self.cip, self.cport = cip, cport
        self.seq = [r.getrandbits(32), r.getrandbits(32)]   # next seq: [client, server]
        self.ipid = [r.getrandbits(16), r.getrandbits(16)]

    def frame(self, c2s, flags, payload=b""):
        count_mqtt(payload)
        me, peer = (0, 1) if c2s else (1, 0)
        opts = MSS_OPT if flags & SYN else b""
        seq, ack = self.seq[me], (self.seq[peer] if flags & 0x10 else 0)
        self.seq[me] = (seq + len(payload) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        self.ipid[me] = (self.ipid[me] + 1) & 0xFFFF
        iplen = 40 + len(opts) + len(payload)
        src, dst, sp, dp, ttl = ((self.cip, SERVER_IP, self.cport, SERVER_PORT, 49) if c2s else
                                 (SERVER_IP, self.cip, SERVER_PORT, self.cport, 64))
        return HDR.pack(SERVER_MAC if c2s else ROUTER_MAC, ROUTER_MAC if c2s else SERVER_MAC, 0x0800,
                        0x45, 0, iplen, self.ipid[me], 0x4000, ttl, 6, 0, src, dst,
                        sp, dp, seq, ack, (5 + len(opts) // 4) << 4, flags, 64240, 0, 0) + opts + payload


def session(p):
    """Yields (time in µs, frame) for one device session planned by plan()."""
    r = R(p["seed"])
    pk, dn, prod = p["pk"], p["dn"], PRODUCTS[p["product"]]
    conn, rtt = Conn(p["ip"], p["port"], r), p["rtt"]
    sysp = f"/sys/{pk}/{dn}/thing/"
    pid, spid, aid = 0, 0, r.randint(1, 5000)
    t = p["start"]
    for block, gap in p["blocks"]:
        t += gap
        if block == CONNECT:
            yield t, conn.frame(True, SYN)
            yield t + 60, conn.frame(False, SYN_ACK)
            t += 60 + rtt
            yield t, conn.frame(True, ACK)
            t += 300
            yield t, conn.frame(True, PSH_ACK, p["connect"])
            t += r.randint(2000, 12000)
            yield t, conn.frame(False, PSH_ACK, b"\x20\x02\x00\x00")
            for topic, qos in ((sysp + "service/property/set", 1), (sysp + "event/property/post_reply", 0)):
                pid += 1
                t += rtt + 1000
                yield t, conn.frame(True, PSH_ACK, mqtt(0x82, struct.pack("!H", pid) + s16(topic) + bytes([qos])))
                t += 300
                yield t, conn.frame(False, PSH_ACK, mqtt(0x90, struct.pack("!HB", pid, qos)))
            yield t + rtt + 40000, conn.frame(True, ACK)
        elif block == POST:
            pid, aid = pid + 1, aid + 1
            method = "thing.event.property.post"
            yield t, conn.frame(True, PSH_ACK, publish(sysp + "event/property/post",
                                                       alink_req(aid, method, prod[1](r)), pid))
            yield t + r.randint(150, 400), conn.frame(False, PSH_ACK, mqtt(0x40, struct.pack("!H", pid)))
            tr = t + r.randint(3000, 15000)
            code, msg = ERRORS[r.randrange(2)] if r.random() < p["error_rate"] else (200, "success")
            yield tr, conn.frame(False, PSH_ACK, publish(sysp + "event/property/post_reply",
                                                         alink_reply(aid, method, code, msg)))
            yield tr + rtt + 40000, conn.frame(True, ACK)
        elif block == SERVICE:
            sid, mkparams, output = prod[2]
            mid, method = r.randint(10**9, 4 * 10**9), "thing.service." + sid
            yield t, conn.frame(False, PSH_ACK, publish(sysp + "service/" + sid, alink_req(mid, method, mkparams(r))))
            tr = t + rtt + r.randint(5000, 30000)
            yield tr, conn.frame(True, PSH_ACK, publish(sysp + f"service/{sid}_reply",
                                                        alink_reply(mid, method, data=jdump(output))))
            yield tr + 40000, conn.frame(False, ACK)
        elif block == PROPSET:
            spid += 1
            mid, method = r.randint(10**9, 4 * 10**9), "thing.service.property.set"
            yield t, conn.frame(False, PSH_ACK, publish(sysp + "service/property/set",
                                                        alink_req(mid, method, prod[3](r)), spid))
            t += rtt + 500
            yield t, conn.frame(True, PSH_ACK, mqtt(0x40, struct.pack("!H", spid)))
            t += r.randint(2000, 10000)
            yield t, conn.frame(True, PSH_ACK, publish(sysp + "service/property/set_reply", alink_reply(mid, method)))
            yield t + 40000, conn.frame(False, ACK)
        elif block == PING:
            yield t, conn.frame(True, PSH_ACK, b"\xc0\x00")
            yield t + 100, conn.frame(False, PSH_ACK, b"\xd0\x00")
            yield t + 100 + rtt + 40000, conn.frame(True, ACK)
        else:  # CLOSE: DISCONNECT, then the device closes; the server answers FIN,ACK
            yield t, conn.frame(True, PSH_ACK, b"\xe0\x00")
            yield t + 20, conn.frame(True, FIN_ACK)
            yield t + 120, conn.frame(False, FIN_ACK)
            yield t + 120 + rtt, conn.frame(True, ACK)


def connect_packet(pk, dn, secret, ts, r):
    """CONNECT as SDKs send it; password = HMAC(secret, clientId..deviceName..productKey..timestamp..)."""
    style = r.random()
    if style < 0.70:    # C / Link SDK style prefix
        prefix, mode, method, extra = f"{pk}.{dn}", 2, "hmacsha256", ""
    elif style < 0.85:  # Node SDK style: plain TCP (securemode=3), HMAC-SHA1
        prefix, mode, method, extra = f"{pk}&{dn}", 3, "hmacsha1", ",lan=NodeJS,_v=1.2.8"
    else:               # a free client id
        prefix, mode, method, extra = f"{dn}_{r.getrandbits(32):08x}", 2, "hmacsha256", ""
    cid = f"{prefix}|securemode={mode},signmethod={method},timestamp={ts}{extra}|"
    content = f"clientId{prefix}deviceName{dn}productKey{pk}timestamp{ts}"
    digest = hashlib.sha256 if method == "hmacsha256" else hashlib.sha1
    password = hmac.new(secret.encode(), content.encode(), digest).hexdigest()
    body = (s16("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", KEEPALIVE)
            + s16(cid) + s16(f"{dn}&{pk}") + s16(password))
    return mqtt(0x10, body)


def plan(frames, seed, concurrency, error_rate, posts_range=(3, 12)):
    """Session plans (sorted by start) whose frame counts add up to exactly `frames`; each
    session makes a number of property posts drawn from `posts_range`."""
    r = R(seed)
    pks = ["a1" + "".join(r.choice(ALNUM) for _ in range(9)) for _ in PRODUCTS]
    counters, used, plans, total = [0] * len(PRODUCTS), set(), [], 0
    n_ips = max(64, frames // 150)
    ips = [bytes([r.choice([39, 42, 112, 117, 120, 183, 223]), r.randrange(256), r.randrange(256),
                  r.randrange(1, 255)]) for _ in range(n_ips)]
    last = False
    while not last and total < frames:
        posts = r.randint(*posts_range)
        kinds = [POST] * posts + [SERVICE, PROPSET, PING]
        need = FRAMES[CONNECT] + FRAMES[CLOSE] + sum(FRAMES[k] for k in kinds)
        left = frames - total
        if left - need < 28:   # too little left for another session: this one fills up
            last = True
            pings = (0, 3, 2, 1)[(left - 24) % 4]   # 24 frames without posts; 4 a post, 3 a ping
            kinds = [SERVICE, PROPSET, PING] + [POST] * max(0, (left - 24 - 3 * pings) // 4) + [PING] * pings
            need = FRAMES[CONNECT] + FRAMES[CLOSE] + sum(FRAMES[k] for k in kinds)
        r.shuffle(kinds)
        prod = r.randrange(len(PRODUCTS))
        counters[prod] += 1
        n = counters[prod]
        dn = PRODUCTS[prod][0].format(n * 7919 % (1 << 24) if "X" in PRODUCTS[prod][0] else n)
        while True:
            ip, port = r.choice(ips), r.randint(10000, 64999)
            if (ip, port) not in used:
                used.add((ip, port))
                break
        secret = hashlib.md5(f"{seed}/{pks[prod]}/{dn}".encode()).hexdigest()
        blocks = [(CONNECT, 0)] + [(k, r.randint(4, 20) * 10**6 + r.randrange(10**6)) for k in kinds + [CLOSE]]
        plans.append(dict(pk=pks[prod], dn=dn, product=prod, secret=secret, ip=ip, port=port,
                          rtt=r.randint(15000, 120000), seed=r.getrandbits(64), blocks=blocks,
                          error_rate=error_rate, duration=sum(g for _, g in blocks)))
        total += need
    # Poisson arrivals at the rate that keeps about `concurrency` sessions open.
    rate = concurrency / (sum(p["duration"] for p in plans) / len(plans))   # sessions per µs
    t = EPOCH * 10**6
    for p in plans:
        t += int(r.expovariate(rate)) + 1
        p["start"] = t
        p["connect"] = connect_packet(p["pk"], p["dn"], p["secret"], t // 1000, r)
    return pks, plans, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=300, help="sessions open at once (about)")
    ap.add_argument("--error-rate", type=float, default=0.004, help="share of post_reply with an error code")
    ap.add_argument("--posts", default="3-12", metavar="LO-HI",
                    help="property posts per session (longer sessions: fewer connections for as many frames)")
    ap.add_argument("--server-port", type=int, default=1883,
                    help="the broker's TCP port (another one gives the same frames without MQTT)")
    a = ap.parse_args()
    global SERVER_PORT
    SERVER_PORT = a.server_port
    if a.frames < 30:
        sys.exit("gen.py: --frames must be at least 30 (one session)")
    try:
        posts = tuple(int(x) for x in a.posts.split("-"))
        assert len(posts) == 2 and 0 <= posts[0] <= posts[1]
    except (ValueError, AssertionError):
        sys.exit(f"gen.py: --posts must be LO-HI with 0 <= LO <= HI, not {a.posts!r}")
    t0 = time.time()
    pks, plans, planned = plan(a.frames, a.seed, a.concurrency, a.error_rate, posts)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    heap, nxt, written, seq = [], 0, 0, 0
    with open(a.out, "wb", buffering=1 << 20) as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        while nxt < len(plans) or heap:
            if nxt < len(plans) and (not heap or plans[nxt]["start"] <= heap[0][0]):
                g = session(plans[nxt])
                nxt += 1
            else:
                t, _, fr, g = heapq.heappop(heap)
                f.write(REC.pack(t // 1000000, t % 1000000, len(fr), len(fr)) + fr)
                written += 1
            item = next(g, None)
            if item:
                seq += 1
                heapq.heappush(heap, (item[0], seq, item[1], g))
        size = f.tell()
    assert written == planned, (written, planned)
    base = a.out[:-5] if a.out.endswith(".pcap") else a.out
    with open(base + ".keys", "w") as k:
        k.writelines(f"{p['pk']},{p['dn']},{p['secret']}\n" for p in plans)
    os.makedirs(base + "-tsl", exist_ok=True)
    for i, pk in enumerate(pks):
        with open(os.path.join(base + "-tsl", pk + ".json"), "w") as t:
            json.dump(tsl(pk, i), t, indent=1)
    events = sorted([(p["start"], 1) for p in plans] + [(p["start"] + p["duration"], -1) for p in plans])
    open_now = peak = 0
    for _, d in events:
        open_now += d
        peak = max(peak, open_now)
    sample = next((p for p in plans if p["pk"] == pks[0]), plans[0])
    meta = dict(frames=written, bytes=size, devices=len(plans), connections=len(plans), products=pks,
                sample_product_key=sample["pk"], sample_device_name=sample["dn"],
                max_concurrent_connections=peak, seed=a.seed, mqtt_packets=MQTT_PACKETS,
                server_port=SERVER_PORT,
                duration_s=round((events[-1][0] - events[0][0]) / 1e6, 1))
    with open(base + ".json", "w") as j:
        json.dump(meta, j, indent=1)
    print(f"{a.out}: {written} frames, {size} bytes, {len(plans)} devices/connections, "
          f"{peak} open at most, {meta['duration_s']} s of traffic, written in {time.time() - t0:.1f} s")
    print(f"sample device: productKey={meta['sample_product_key']} deviceName={meta['sample_device_name']}")


if __name__ == "__main__":
    main()
