"""Scripted stand-in for the Alibaba IoT platform (cloud side) on a plain mosquitto.

Subscribes as client 'lab-platform' to every device topic and answers requests the way the
reference (shared/docs/alibaba-iot-protocol.md, sections 3-6) describes: Alink replies on
<request topic>_reply, sub-device session errors on /ext/error/{gwpk}/{gwdn}, OTA pushes,
NTP responses, RRPC requests on /ext/rrpc/{id}/{inner topic}, binary file download replies.
Cloud-initiated messages are triggered by the device's own messages (with short delays), so
the order on the wire is deterministic.  Usage: platform.py  (runs until killed)
"""
import json
import re
import struct
import sys
import time

import paho.mqtt.client as mqtt

import lab

logged_in = {}          # (subpk, subdn) -> (gwpk, gwdn)
last_gw = {}            # (subpk, subdn) -> gateway of the last session
issued = {}             # secrets handed out by thing/sub/register_reply


PLATFORM = lab.Publisher("platform")
log, pub = PLATFORM.log, PLATFORM.pub


def ok(req, data=None, method=None, code=200):
    r = {"code": code, "data": {} if data is None else data, "id": req.get("id"), "message": "success" if code == 200 else "error"}
    if method:
        r["method"] = method
    r["version"] = "1.0"
    return r


def crc16_arc(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


FILE_BLOB = bytes((i * 37 + 11) & 0xFF for i in range(96))   # the 'file' the lab serves (96 bytes)


def on_message(c, _u, m):
    t, p = m.topic, m.payload
    if PLATFORM.own(t, p):
        sent.discard((t, p))
        return
    log("<-", t, p[:120])
    parts = t.split("/")
    try:
        req = lab.lenient_json_loads(p.decode()) if p[:1] in (b"{", b"[") else None
    except Exception:
        req = None

    # ---------- gateway / sub-devices (captures 10, 11) ----------
    if t.endswith("/thing/sub/register") and req:
        data = []
        for d in req["params"]:
            sec = lab.secret(d["productKey"], d["deviceName"])
            issued[(d["productKey"], d["deviceName"])] = sec
            data.append({"productKey": d["productKey"], "deviceName": d["deviceName"], "deviceSecret": sec})
        pub(c, t + "_reply", ok(req, data, "thing.sub.register"))
    elif t.endswith("/thing/topo/add") and req:
        good = all(lab.check_sign(d["productKey"], d["deviceName"], d["clientId"], d["timestamp"],
                                  d.get("signmethod") or d.get("signMethod"), d["sign"]) for d in req["params"])
        data = [{"productKey": d["productKey"], "deviceName": d["deviceName"]} for d in req["params"]]
        pub(c, t + "_reply", ok(req, data if good else {}, "thing.topo.add", 200 if good else 401))
    elif t.endswith("/combine/login") and req:
        d = req["params"]
        good = lab.check_sign(d["productKey"], d["deviceName"], d["clientId"], d["timestamp"], d["signMethod"], d["sign"])
        if good:
            logged_in[(d["productKey"], d["deviceName"])] = last_gw[(d["productKey"], d["deviceName"])] = (parts[3], parts[4])
        pub(c, t + "_reply", ok(req, {"productKey": d["productKey"], "deviceName": d["deviceName"]},
                                code=200 if good else 6287))
    elif t.endswith("/combine/batch_login") and req:
        m_ = req["params"]["signMethod"]
        data = []
        for d in req["params"]["deviceList"]:
            if lab.check_sign(d["productKey"], d["deviceName"], d["clientId"], d["timestamp"], m_, d["sign"]):
                logged_in[(d["productKey"], d["deviceName"])] = last_gw[(d["productKey"], d["deviceName"])] = (parts[3], parts[4])
                data.append({"productKey": d["productKey"], "deviceName": d["deviceName"]})
        pub(c, t + "_reply", ok(req, data, code=200 if len(data) == len(req["params"]["deviceList"]) else 6287))
    elif (t.endswith("/combine/logout") or t.endswith("/combine/batch_logout")) and req:
        ds = req["params"] if isinstance(req["params"], list) else [req["params"]]
        for d in ds:
            logged_in.pop((d["productKey"], d["deviceName"]), None)
        data = [{"productKey": d["productKey"], "deviceName": d["deviceName"]} for d in ds]
        pub(c, t + "_reply", ok(req, data if isinstance(req["params"], list) else data[0]))
    elif t.startswith("/sys/" + lab.SUB_PK + "/") and t.endswith("/thing/event/property/post") and req:
        key = (parts[2], parts[3])
        if key in logged_in:
            pub(c, t + "_reply", ok(req, method="thing.event.property.post"))
        else:   # gateway posts for a sub-device that has no session -> error to the gateway
            gw = last_gw.get(key, ("a1GwPkXyz12", "lab-gw-01"))
            pub(c, "/ext/error/%s/%s" % gw, {"id": req.get("id"), "code": 520,
                                              "data": {"productKey": key[0], "deviceName": key[1]},
                                              "message": "device not login"})

    # ---------- devices provisioned by dynamic registration (capture 12) ----------
    elif t.startswith("/sys/" + lab.DYN_PK + "/") and t.endswith("/thing/event/property/post") and req:
        pub(c, t + "_reply", ok(req, method="thing.event.property.post"))

    # ---------- OTA and NTP (capture 13) ----------
    elif t.startswith("/ota/device/inform/"):
        pk, dn = parts[4], parts[5]
        pub(c, "/ota/device/upgrade/%s/%s" % (pk, dn), {
            "code": "1000",
            "data": {"size": 96, "version": "2.1.0", "isDiff": 0,
                     "url": "https://ota.lab.invalid/%s/fw-2.1.0.bin" % pk,
                     "md5": "4f8d2c1b9e7a6350f1e2d3c4b5a69788", "sign": "4f8d2c1b9e7a6350f1e2d3c4b5a69788",
                     "signMethod": "Md5", "module": "default", "extData": {"channel": "lab"}},
            "id": 1733000000100, "message": "success"}, qos=1, delay=0.3)
    elif t.startswith("/ext/ntp/") and t.endswith("/request") and req:
        now = int(time.time() * 1000)
        pub(c, t[:-len("request")] + "response", {"deviceSendTime": req["deviceSendTime"],
                                                  "serverRecvTime": str(now), "serverSendTime": str(now + 1)})

    # ---------- RRPC and services (capture 14) ----------
    elif t == "/sys/a1B2c3D4e5F/lab-sensor-14/thing/event/property/post" and req:
        pub(c, t + "_reply", ok(req, method="thing.event.property.post"))
        base = "/sys/a1B2c3D4e5F/lab-sensor-14"
        pub(c, "/ext/rrpc/1733000000000201/a1B2c3D4e5F/lab-sensor-14/user/get", b"GET_STATUS", delay=0.4)
        pub(c, "/ext/rrpc/1733000000000202" + base + "/thing/service/GetStatus",
            {"id": "2001", "version": "1.0", "params": {"verbose": 1}, "method": "thing.service.GetStatus"}, delay=0.8)
        pub(c, base + "/thing/service/SetTemperature",
            {"id": "2002", "version": "1.0", "params": {"target": 19.5}, "method": "thing.service.SetTemperature"},
            qos=1, delay=1.2)

    # ---------- binary payloads (capture 15) ----------
    elif t.endswith("/thing/model/up_raw"):
        rid = struct.unpack(">I", p[1:5])[0] if len(p) >= 5 else 0
        pub(c, t + "_reply", {"id": str(rid), "code": 200, "data": {"temperature": 21.5}, "message": "success",
                              "method": "thing.model.up_raw", "version": "1.0"})
    elif t.endswith("/thing/file/download") and req:
        blk = req["params"]["fileBlock"]
        off, size = blk["offset"], blk["size"]
        chunk = FILE_BLOB[off:off + size]
        hdr = json.dumps({"id": req["id"], "code": 200,
                          "data": {"fileToken": req["params"]["fileToken"], "fileLength": len(FILE_BLOB),
                                   "bSize": len(chunk), "bOffset": off}}, separators=(",", ":")).encode()
        crc = crc16_arc(chunk)
        if off > 0:
            crc ^= 0x5A5A          # second block: deliberately wrong CRC
        pub(c, t + "_reply", struct.pack(">H", len(hdr)) + hdr + chunk + struct.pack("<H", crc))

    # ---------- Alink quirks (capture 16) ----------
    elif t.startswith("/sys/a1B2c3D4e5F/lab-sensor-16/") and req is not None:
        ack = (req.get("sys") or {}).get("ack", 1)
        if t.endswith("/thing/property/desired/get") and isinstance(req.get("id"), str):
            return                 # the request that never gets a reply
        if ack == 0:
            return                 # sys.ack = 0: no reply expected
        if isinstance(req.get("params"), str):
            # params given as a JSON string: platform answers with code as a string
            pub(c, t + "_reply", {"code": "200", "data": {}, "id": req.get("id"), "message": "success",
                                  "method": req.get("method"), "version": "1.0"})
        else:
            pub(c, t + "_reply", ok(req, method=req.get("method")))


def main():
    c = mqtt.Client(client_id="lab-platform", clean_session=True, protocol=mqtt.MQTTv311)
    c.on_message = on_message
    c.on_connect = lambda c_, u, f, rc: c_.subscribe([("/sys/#", 1), ("/ext/session/#", 1), ("/ota/#", 1),
                                                      ("/ext/ntp/#", 1), ("/ext/rrpc/#", 1)])
    c.connect(lab.HOST, lab.PLATFORM_PORT, 60)
    c.loop_forever()


if __name__ == "__main__":
    main()
