"""Writes (or refreshes) the lab-manifest.json entries of the transport captures 22-27.

Every frame that carries TLS records, HTTP (the WebSocket upgrade / the HTTPS exchange), WebSocket
frames or MQTT is listed with tshark's frame number, the time relative to the first frame, the TCP
stream, the direction (D>C device/client to server, C>D server to device/client), the TCP control
flags (SYN/FIN/RST), tshark's stock Protocol/Info columns under the documented command line (Decode
As and key log given in 'tshark' of each entry), and:
  tls        per TLS record: the (decrypted) content type and handshake types
  http       request line / status line, Upgrade and Sec-WebSocket-Protocol headers
  websocket  per WebSocket frame: opcode, FIN, MASK, payload length
  mqtt       the MQTT packets that END in this frame (type, packet id, QoS, flags, topic, payload,
             CONNECT login, SUBACK codes); a packet spread over several frames has 'spans_frames';
             a frame holding only a piece of a packet has 'mqtt_piece_of' (the frame where it ends)
The MQTT packets are NOT taken from Wireshark's MQTT dissector: this script rebuilds each direction's
MQTT byte stream itself (TCP payload for 27; decrypted TLS records for 22; the unmasked payloads of
the WebSocket data frames, in order, for 23-25) and parses it, so an MQTT packet split over WebSocket
messages is still described correctly.  Every CONNECT password is re-checked (minibroker.check_login).
Usage: transport_manifest.py [capture dir]   (updates <dir>/lab-manifest.json in place; other entries
are kept as they are)
"""
import hashlib
import json
import os
import subprocess
import sys

import transport_lab as tl
from minibroker import check_login
from session_manifest import Pairs, flat, TYPES

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = "lab/ws-mqtt.lua"
WSOP = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}
TLSCT = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}

CAPS = {
    "22-tls-on-1883.pcapng": dict(
        port=1883, carrier="tls", keylog="22-tls-on-1883.keylog", device="lab-sensor-22",
        decode=["-d", "tcp.port==1883,tls", "-d", "tls.port==1883,mqtt"],
        title="MQTT 3.1.1 over TLS 1.3 on TCP port 1883 (the plain-MQTT port), Alibaba login securemode=2",
        source="real paho-mqtt 1.6.1 (lab/transport_paho_device.py tls) against a real mosquitto 2.0.11 TLS listener on 127.0.0.1:1883 (lab CA + EC P-256 server certificate made by openssl at recording time); key log written by the client through Python's SSLContext.keylog_filename and also embedded in the pcapng (editcap --inject-secrets tls,...). Platform answer from lab/transport_platform.py on an uncaptured plain listener. lab/transport-record.sh, private network namespace.",
        library={"name": "paho-mqtt", "version": "1.6.1"}, transport="TLS 1.3 over tcp/1883"),
    "23-mqtt-over-ws.pcapng": dict(
        port=80, carrier="ws", device="lab-sensor-23", decode=[],
        title="MQTT 3.1.1 over plain WebSocket on TCP port 80 (GET /mqtt, Sec-WebSocket-Protocol: mqtt), one MQTT packet per WebSocket frame, Alibaba login securemode=3",
        source="real paho-mqtt 1.6.1 websocket transport (lab/transport_paho_device.py ws) against a real mosquitto 2.0.11 websockets listener on port 80. lab/transport-record.sh, private network namespace.",
        library={"name": "paho-mqtt", "version": "1.6.1"}, transport="WebSocket over tcp/80"),
    "23b-mqtt-over-ws-mqttjs.pcapng": dict(
        port=80, carrier="ws", device="lab-sensor-23", decode=[],
        title="MQTT 3.1.1 over plain WebSocket on port 80 from mqtt.js: every device MQTT packet is written as SEVERAL WebSocket binary messages (each FIN=1) - fixed header, lengths, strings, payload - so no device message holds a whole MQTT packet; the broker's packets are one frame each",
        source="real npm mqtt (mqtt.js) 5.10.1 on Node 20 (lab/transport_ws_device.js; Node's mqtt.js writes each MQTT packet in pieces and its WebSocket stream makes every piece a frame - the same library the npm alibabacloud-iot-device-sdk uses) against mosquitto 2.0.11 websockets on port 80. lab/transport-record.sh, private network namespace.",
        library={"name": "mqtt (npm)", "version": "5.10.1"}, transport="WebSocket over tcp/80"),
    "24-mqtt-over-wss.pcapng": dict(
        port=443, carrier="ws", keylog="24-mqtt-over-wss.keylog", device="lab-sensor-24", decode=[],
        title="MQTT 3.1.1 over TLS WebSocket (wss) on TCP port 443, one MQTT packet per WebSocket frame, Alibaba login securemode=2",
        source="real paho-mqtt 1.6.1 websocket transport with TLS (lab/transport_paho_device.py wss; key log by Python's SSLContext.keylog_filename, also embedded in the pcapng) against mosquitto 2.0.11 websockets+TLS on port 443. lab/transport-record.sh, private network namespace.",
        library={"name": "paho-mqtt", "version": "1.6.1"}, transport="WebSocket over TLS 1.3 over tcp/443"),
    "24b-mqtt-over-wss-mqttjs.pcapng": dict(
        port=443, carrier="ws", keylog="24b-mqtt-over-wss-mqttjs.keylog", device="lab-sensor-24", decode=[],
        title="MQTT 3.1.1 over wss on port 443 from mqtt.js: each device MQTT packet spread over several WebSocket messages (and so over several TLS records)",
        source="real npm mqtt 5.10.1 under node --tls-keylog (lab/transport_ws_device.js; key log also embedded in the pcapng) against mosquitto 2.0.11 websockets+TLS on port 443. lab/transport-record.sh, private network namespace.",
        library={"name": "mqtt (npm)", "version": "5.10.1"}, transport="WebSocket over TLS 1.3 over tcp/443"),
    "25-ws-split-and-coalesced.pcapng": dict(
        port=80, carrier="ws", device="lab-sensor-25", decode=[],
        title="MQTT over plain WebSocket (port 80) with unusual framing: (a1) a 636-byte PUBLISH in one fragmented WebSocket message (binary FIN=0 + continuation FIN=1), (a2) a 637-byte PUBLISH split over two complete binary messages, (b) a PUBLISH and a PINGREQ in one WebSocket frame",
        source="lab-written raw WebSocket client (lab/ws_raw_device.py: RFC 6455 handshake with Sec-WebSocket-Protocol mqtt, masked frames with fixed masking keys, hand-built MQTT 3.1.1 packets, Alibaba login securemode=3) against mosquitto 2.0.11 websockets on port 80, which accepts all three framings (the MQTT spec allows packets to span WebSocket frames). lab/transport-record.sh, private network namespace.",
        library={"name": "lab/ws_raw_device.py", "version": "lab"}, transport="WebSocket over tcp/80"),
    "26-https-on-443.pcapng": dict(
        port=443, carrier="https", keylog="26-https-on-443.keylog", decode=[],
        title="not MQTT: one plain HTTPS/1.1 request/response on TCP port 443 (POST /auth with an Alibaba-looking JSON body, 200 application/json); must stay TLS/HTTP",
        source="curl (SSLKEYLOGFILE key log, also embedded in the pcapng) against lab/https_server.py (Python http.server + ssl, lab certificate) on 127.0.0.1:443. lab/transport-record.sh, private network namespace.",
        library={"name": "curl", "version": "system"}, transport="HTTP/1.1 over TLS 1.3 over tcp/443"),
    "27-tls-looking-plain-mqtt.pcapng": dict(
        port=1883, carrier="tcp", decode=[],
        title="not MQTT, not TLS: one TCP connection to port 1883 whose only client payload is 16 03 01 00 05 41 42 43 44 45 (a TLS-record-looking header with 'ABCDE' as body), then FIN from both sides",
        source="lab/tls_probe.py: a raw socket client and a bare TCP listener on 127.0.0.1:1883 (no broker; it reads to end of stream, sends nothing, closes). Stock Wireshark decodes port 1883 as MQTT and shows 'Connect Command [Malformed Packet]'. lab/transport-record.sh, private network namespace.",
        library={"name": "lab/tls_probe.py", "version": "lab"}, transport="tcp/1883"),
}

NOTE = ("Captures 22-27 (lab/transport-record.sh) are about how a device reaches the platform: MQTT over TLS "
        "on 1883 (22), over WebSocket on 80 (23, 23b, 25) and over TLS WebSocket on 443 (24, 24b), plus two "
        "look-alikes that are not MQTT (26 HTTPS on 443, 27 a TLS-looking segment on 1883). Each MQTT session: "
        "CONNECT/CONNACK, SUBSCRIBE of .../thing/event/property/post_reply, QoS 1 .../thing/event/property/post "
        "answered by PUBACK and the platform's post_reply (QoS 0, {\"id\":\"1\",\"code\":200,\"data\":{}}), "
        "DISCONNECT. Broker mosquitto 2.0.11 in a private network namespace; the platform stand-in "
        "(lab/transport_platform.py) is on an uncaptured plain listener. Key logs (*.keylog) are also embedded "
        "in the pcapng files (decryption secrets block), so those decrypt without -o tls.keylog_file. Stock "
        "tshark 4.0 does not bind the WebSocket subprotocol 'mqtt' to its MQTT dissector: it shows the WebSocket "
        "frames with Data payloads; 'tshark_mqtt' gives the extra -X lua_script:lab/ws-mqtt.lua that does. "
        "Each entry's 'frames' lists every frame carrying TLS records, HTTP, WebSocket frames or MQTT plus the "
        "TCP SYN/FIN/RST frames; its 'mqtt' items come from the lab's own re-parse of the byte stream "
        "(transport_manifest.py), not from Wireshark.")


def hx(v):
    return bytes.fromhex(v.replace(":", ""))


def raw(layer, key):
    """hex bytes of a '<field>_raw' entry (tshark -x)."""
    v = layer.get(key + "_raw")
    return bytes.fromhex(v[0]) if v else b""


def layers_all(L, name):
    out = []
    for v in L.all(name):
        out.extend([v] if isinstance(v, Pairs) or not isinstance(v, list) else v)
    return out


# ---- MQTT 3.1.1 parsing of a rebuilt byte stream -----------------------------------------------------
def u16(b, i):
    return (b[i] << 8) | b[i + 1], i + 2


def mstr(b, i):
    n, i = u16(b, i)
    return b[i:i + n], i + n


def parse_mqtt(first, body):
    t = first >> 4
    d = {"type": TYPES.get(t, str(t))}
    i = 0
    if t == 1:
        _proto, i = mstr(body, 0)
        level, flags = body[i], body[i + 1]
        ka, i = u16(body, i + 2)
        cid, i = mstr(body, i)
        d.update({"protocol_level": level, "keepalive": ka, "clean_session": bool(flags & 2), "clientId": cid.decode()})
        if flags & 4:
            wt, i = mstr(body, i)
            wm, i = mstr(body, i)
            d["will"] = {"topic": wt.decode(), "message": wm.decode("utf-8", "replace")}
        if flags & 0x80:
            u, i = mstr(body, i)
            d["username"] = u.decode()
        if flags & 0x40:
            p, i = mstr(body, i)
            d["password"] = p.decode()
    elif t == 2:
        d["session_present"] = bool(body[0] & 1)
        d["return_code"] = body[1]
    elif t == 3:
        qos = (first >> 1) & 3
        topic, i = mstr(body, 0)
        d["qos"] = qos
        if first & 8:
            d["dup"] = True
        if first & 1:
            d["retain"] = True
        d["topic"] = topic.decode()
        if qos:
            d["packet_id"], i = u16(body, i)
        d["payload"] = body[i:].decode("utf-8", "replace")
        d["payload_len"] = len(body) - i
    elif t in (4, 5, 6, 7, 11):
        d["packet_id"], _ = u16(body, 0)
    elif t == 8:
        d["packet_id"], i = u16(body, 0)
        d["filters"] = []
        while i < len(body):
            f, i = mstr(body, i)
            d["filters"].append([f.decode(), body[i]])
            i += 1
    elif t == 9:
        d["packet_id"], i = u16(body, 0)
        d["return_codes"] = ["0x%02x" % c for c in body[i:]]
    elif t == 10:
        d["packet_id"], i = u16(body, 0)
        d["filters"] = []
        while i < len(body):
            f, i = mstr(body, i)
            d["filters"].append(f.decode())
    return d


class Stream:
    """One direction's MQTT byte stream, fed in pieces tagged with the frame number."""

    def __init__(self):
        self.buf, self.owners = b"", []

    def feed(self, data, frame):
        """-> list of (packet description, frames the packet's bytes came from) completed now."""
        self.buf += data
        self.owners += [frame] * len(data)
        done = []
        while len(self.buf) >= 2:
            n, mul, i = 0, 1, 1
            while True:
                if i >= len(self.buf):
                    return done
                b = self.buf[i]
                n += (b & 0x7F) * mul
                mul *= 128
                i += 1
                if not b & 0x80:
                    break
            if len(self.buf) < i + n:
                return done
            try:
                d = parse_mqtt(self.buf[0], self.buf[i:i + n])
            except IndexError:
                d = {"type": TYPES.get(self.buf[0] >> 4, str(self.buf[0] >> 4)), "malformed": True}
            d["length"] = i + n
            frames = sorted(set(self.owners[:i + n]))
            self.buf, self.owners = self.buf[i + n:], self.owners[i + n:]
            done.append((d, frames))
        return done


# ---- per-capture analysis ------------------------------------------------------------------------------
def tshark_cmd(name, c, d):
    cmd = ["tshark", "-r", os.path.join(d, name)] + c["decode"]
    return cmd


def analyse(name, c, d):
    cmd = tshark_cmd(name, c, d)
    if c["carrier"] == "ws":
        cmd += ["-X", "lua_script:" + os.path.join(HERE, "ws-mqtt.lua")]
    js = subprocess.run(cmd + ["-T", "json", "-x"], capture_output=True, text=True, check=True).stdout
    cols = {}
    for line in subprocess.run(tshark_cmd(name, c, d) + ["-T", "fields", "-e", "frame.number", "-e", "_ws.col.Protocol",
                                                       "-e", "_ws.col.Info"], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        n, p, info = line.split("\t", 2)
        cols[int(n)] = (p, info.strip())
    streams = {}
    rows, logins, pending = [], [], {}
    for p in json.loads(js, object_pairs_hook=Pairs):
        L = p.get("_source").get("layers")
        tcp, fr = L.get("tcp"), L.get("frame")
        n = int(fr.get("frame.number"))
        fl = flat(tcp)
        d2c = int(tcp.get("tcp.dstport")) == c["port"]
        s = int(tcp.get("tcp.stream"))
        flags = int(fl["tcp.flags"][0], 16)
        ctl = [nm for bit, nm in ((0x02, "SYN"), (0x01, "FIN"), (0x04, "RST")) if flags & bit]
        if ctl and flags & 0x10:
            ctl.append("ACK")
        row = {"frame": n, "time": round(float(fr.get("frame.time_relative")), 6), "stream": s,
               "dir": "D>C" if d2c else "C>D"}
        if ctl:
            row["tcp"] = ",".join(ctl)
        if "tcp.analysis.retransmission" in fl:
            row["tcp_retransmission"] = True
        row["tshark"] = {"protocol": cols[n][0], "info": cols[n][1]}
        # TLS records
        recs = []
        for t in layers_all(L, "tls"):
            for r in t.all("tls.record") if isinstance(t, Pairs) else []:
                for rr in ([r] if isinstance(r, Pairs) else r):
                    f = flat(rr)
                    ct = int((f.get("tls.record.content_type") or f.get("tls.record.opaque_type") or ["0"])[0])
                    item = {"type": TLSCT.get(ct, str(ct)), "len": int(f["tls.record.length"][0])}
                    if "tls.handshake.type" in f:
                        item["handshake"] = [int(x) for x in f["tls.handshake.type"]]
                    if "tls.alert_message.desc" in f:
                        item["alert"] = int(f["tls.alert_message.desc"][0])
                    recs.append(item)
        if recs:
            row["tls"] = recs
        # HTTP
        for h in layers_all(L, "http"):
            f = flat(h)
            hd = {}
            for k_src, k in (("http.request.method", "method"), ("http.request.uri", "uri"),
                             ("http.response.code", "status"), ("http.upgrade", "upgrade"),
                             ("http.sec_websocket_protocol", "sec_websocket_protocol"),
                             ("http.content_type", "content_type")):
                if k_src in f:
                    hd[k] = f[k_src][0]
            row.setdefault("http", []).append(hd)
        # WebSocket frames and the MQTT byte stream
        pieces = []
        if c["carrier"] == "ws":
            for w in layers_all(L, "websocket"):
                op = int(w.get("websocket.opcode"))
                ln = int(w.get("websocket.payload_length_ext_16") or w.get("websocket.payload_length_ext_64")
                         or w.get("websocket.payload_length"))
                wf = {"opcode": WSOP.get(op, str(op)), "fin": w.get("websocket.fin") == "1",
                      "masked": w.get("websocket.mask") == "1", "len": ln}
                pl = raw(w, "websocket.payload")
                if op == 8:
                    wf["payload_hex"] = pl.hex()
                row.setdefault("websocket", []).append(wf)
                if op in (0, 2):
                    pieces.append(pl)
        elif c["carrier"] == "tls":
            # the decrypted MQTT bytes of this frame: the raw bytes of each MQTT layer (tshark -x gives
            # them from the decrypted TLS record; with paho each MQTT packet is one TLS record)
            for v in L.all("mqtt_raw"):
                for m in ([v] if isinstance(v[0], str) else v):
                    pieces.append(bytes.fromhex(m[0]))
        elif c["carrier"] == "tcp":
            if "tcp.payload" in fl:     # not MQTT: recorded as bytes, not parsed
                row["tcp_payload_hex"] = fl["tcp.payload"][0].replace(":", "")
        st = streams.setdefault((s, d2c), Stream())
        for pc in pieces:
            for dsc, frames in st.feed(pc, n):
                if len(frames) > 1:
                    dsc["spans_frames"] = frames
                    for other in frames[:-1]:
                        pending.setdefault(other, []).append({"type": dsc["type"], "packet_id": dsc.get("packet_id"),
                                                              "ends_in_frame": frames[-1]})
                row.setdefault("mqtt", []).append(dsc)
                if dsc["type"] == "CONNECT":
                    ok, _ = check_login(dsc["clientId"], dsc["username"], dsc["password"])
                    if not ok:
                        sys.exit("bad password in %s #%d" % (name, n))
                    logins.append({"frame": frames[0] if len(frames) == 1 else frames, "stream": s,
                                   "clientId": dsc["clientId"], "username": dsc["username"],
                                   "password": dsc["password"],
                                   "timestamp": dsc["clientId"].split("timestamp=")[1].split("|")[0],
                                   "securemode": dsc["clientId"].split("securemode=")[1].split(",")[0],
                                   "signmethod": "hmacsha1", "password_checks": ok})
        keep = ctl or recs or "http" in row or "websocket" in row or "mqtt" in row or "tcp_payload_hex" in row
        if keep:
            rows.append(row)
    for r in rows:
        if r["frame"] in pending:
            for x in pending[r["frame"]]:
                if x["packet_id"] is None:
                    del x["packet_id"]
            r["mqtt_piece_of"] = pending[r["frame"]]
    for (s, d2c), st in streams.items():
        if st.buf:
            sys.exit("%s: %d unparsed MQTT bytes left in stream %d %s" % (name, len(st.buf), s, d2c))
    return rows, logins


def summary(rows):
    """One line per listed frame: what it carries."""
    out = []
    for r in rows:
        parts = []
        if "tcp" in r:
            parts.append("TCP " + r["tcp"] + (" (retransmission)" if r.get("tcp_retransmission") else ""))
        for t in r.get("tls", []):
            parts.append("TLS " + t["type"] + (" hs%s" % t["handshake"] if "handshake" in t else "")
                         + (" %s" % {0: "close_notify"}.get(t["alert"], t["alert"]) if "alert" in t else ""))
        for h in r.get("http", []):
            parts.append("HTTP " + " ".join(str(h[k]) for k in ("method", "uri", "status") if k in h)
                         + (" Sec-WebSocket-Protocol: %s" % h["sec_websocket_protocol"] if "sec_websocket_protocol" in h else ""))
        for w in r.get("websocket", []):
            parts.append("WS %s FIN=%d%s len %d" % (w["opcode"], w["fin"], " masked" if w["masked"] else "", w["len"]))
        for x in r.get("mqtt_piece_of", []):
            parts.append("piece of MQTT %s%s (ends in #%d)" % (x["type"], " id %d" % x["packet_id"] if "packet_id" in x else "",
                                                                x["ends_in_frame"]))
        for m in r.get("mqtt", []):
            t = "MQTT " + m["type"]
            if "packet_id" in m:
                t += " id %d" % m["packet_id"]
            if m["type"] == "PUBLISH":
                t += " QoS %d %s" % (m["qos"], m["topic"])
            if m["type"] == "SUBSCRIBE":
                t += " " + ", ".join("%s QoS %d" % (f, q) for f, q in m["filters"])
            if m["type"] == "SUBACK":
                t += " " + str(m["return_codes"])
            if m["type"] == "CONNECT":
                t += " clientId '%s'" % m["clientId"]
            if m["type"] == "CONNACK":
                t += " rc %d" % m["return_code"]
            if "spans_frames" in m:
                t += " (bytes from #%s)" % ", #".join(str(f) for f in m["spans_frames"])
            parts.append(t)
        if "tcp_payload_hex" in r:
            parts.append("TCP payload " + r["tcp_payload_hex"])
        out.append("#%d %s %s" % (r["frame"], r["dir"], "; ".join(parts)))
    return out


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(HERE)
    mpath = os.path.join(d, "lab-manifest.json")
    man = json.load(open(mpath))
    prods = man["products"]["a1B2c3D4e5F"]["devices"]
    for dn, sec in tl.TRANSPORT_DEVICES.items():
        prods[dn] = sec
    man["notes"] = [n for n in man["notes"] if not n.startswith("Captures 22-27")] + [NOTE]
    keep = [c for c in man["captures"] if c["file"] not in CAPS]
    for name, c in CAPS.items():
        path = os.path.join(d, name)
        if not os.path.exists(path):
            continue
        rows, logins = analyse(name, c, d)
        dec = " ".join(c["decode"])
        stock = ("tshark -r %s %s" % (name, dec)).strip()
        entry = {"file": name, "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
                 "title": c["title"], "source": c["source"]}
        if "keylog" in c:
            entry["secrets"] = {"keylog": c["keylog"], "embedded_in_pcapng": True,
                                "with_keylog_file": stock + " -o tls.keylog_file:" + c["keylog"]}
        entry["tshark"] = stock
        if c["carrier"] == "ws":
            entry["tshark_mqtt"] = stock + " -X lua_script:" + LUA
        entry["summary"] = summary(rows)
        entry["frames"] = rows
        if logins:
            entry["logins"] = logins
        entry.update({"library": c["library"], "transport": c["transport"]})
        if "device" in c:
            entry.update({"mqtt_version": "3.1.1", "broker": "mosquitto 2.0.11",
                          "platform": "lab/transport_platform.py (post_reply QoS 0)",
                          "devices": [{"productKey": tl.PK, "deviceName": c["device"],
                                       "deviceSecret": tl.TRANSPORT_DEVICES[c["device"]]}]})
        keep.append(entry)
    man["captures"] = keep
    with open(mpath, "w") as fh:
        json.dump(man, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print("updated", mpath, "entries:", [c["file"] for c in keep if c["file"] in CAPS])


if __name__ == "__main__":
    main()
