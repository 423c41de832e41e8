"""Checks the credentials and framings in captures 10-16 with tshark: every CONNECT password (or dynreg
password / connwl token), every topo/add and combine/(batch_)login sign, and the CRC-16/ARC of each
thing/file/download_reply.  Usage: verify.py [capture dir]   (prints one line per check, exit 1 on a failure)"""
import glob
import json
import os
import struct
import subprocess
import sys

import lab
from cloud import crc16_arc
from minibroker import check_login

d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bad = 0


def say(ok, what):
    global bad
    bad += not ok
    print(("ok  " if ok else "BAD ") + what)


for f in sorted(glob.glob(os.path.join(d, "1[0-6]-*.pcapng"))):
    out = subprocess.run(["tshark", "-r", f, "-Y", "mqtt", "-T", "json", "-e", "frame.number", "-e", "mqtt.clientid",
                          "-e", "mqtt.username", "-e", "mqtt.passwd", "-e", "mqtt.topic", "-e", "mqtt.msg"],
                         capture_output=True, text=True, check=True).stdout
    name = os.path.basename(f)
    for p in json.loads(out):
        L = p["_source"]["layers"]
        fr = L["frame.number"][0]
        if "mqtt.clientid" in L:
            ok, _ = check_login(L["mqtt.clientid"][0], L["mqtt.username"][0], L["mqtt.passwd"][0])
            say(ok, "%s #%s CONNECT %s" % (name, fr, L["mqtt.username"][0]))
        for t, m in zip(L.get("mqtt.topic", []), L.get("mqtt.msg", [])):
            raw = bytes.fromhex(m.replace(":", ""))
            if t.endswith("/thing/topo/add") or t.endswith("/combine/login") or t.endswith("/combine/batch_login"):
                req = json.loads(raw)
                ps = req["params"]
                items = ps["deviceList"] if isinstance(ps, dict) and "deviceList" in ps else (ps if isinstance(ps, list) else [ps])
                for it in items:
                    meth = it.get("signMethod") or it.get("signmethod") or ps.get("signMethod")
                    ok = lab.check_sign(it["productKey"], it["deviceName"], it["clientId"], it["timestamp"], meth, it["sign"])
                    say(ok, "%s #%s %s sign %s/%s" % (name, fr, t.rsplit("/", 1)[1], it["productKey"], it["deviceName"]))
            if t.endswith("/thing/file/download_reply"):
                hl = struct.unpack(">H", raw[:2])[0]
                hdr = json.loads(raw[2:2 + hl])
                chunk = raw[2 + hl:2 + hl + hdr["data"]["bSize"]]
                crc = struct.unpack("<H", raw[2 + hl + len(chunk):])[0]
                print("     %s #%s download_reply id %s bOffset %d bSize %d crc %04x computed %04x -> %s" % (
                    name, fr, hdr["id"], hdr["data"]["bOffset"], len(chunk), crc, crc16_arc(chunk),
                    "CRC OK" if crc == crc16_arc(chunk) else "CRC MISMATCH"))
sys.exit(1 if bad else 0)
