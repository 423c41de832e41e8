"""Stand-in for the Alibaba IoT platform (cloud side) for Alibaba's C SDK 3.x (iotkit-embedded)
behind a plain mosquitto: answers the device's requests the way the protocol reference
(shared/docs/alibaba-iot-protocol.md, sections 4-6) describes, and makes the platform's own calls
once the device's first property post arrives.

- Alink requests (property and event posts, deviceinfo, thing/config/get): a reply on
  <request topic>_reply with the request's id, code 200.
- NTP: /ext/ntp/{pk}/{dn}/response with the device's deviceSendTime and the platform's times.
- up_raw: the reply a product's data-parsing script makes; here the shape of Alibaba's sample
  script (0x02, the 4-byte id of the request, a 1-byte code 0xc8), as bytes.
- The legacy firmware query /ota/device/request/{pk}/{dn}: an upgrade push on
  /ota/device/upgrade/{pk}/{dn} (code "1000"), its URL on a closed loopback port.
- After the first property post: a property set, an asynchronous service call, an RRPC call
  (/sys/{pk}/{dn}/rrpc/request/{id}; with --link4 the Link SDK 4.x's synchronous service call
  /ext/rrpc/{id}/sys/{pk}/{dn}/thing/service/{service}) and pass-through data (thing/model/down_raw).
- thing/property/desired/get: the desired value of each property asked for.

Connects to the uncaptured listener 127.0.0.1:11884.  Usage: c_sdk_cloud.py [--link4]  (runs
until killed)
"""
import json
import sys
import time

import paho.mqtt.client as mqtt

import lab

LINK4 = "--link4" in sys.argv[1:]
calls_made = set()  # devices the platform already called


PLATFORM = lab.Publisher("c-sdk-cloud")
log, pub = PLATFORM.log, PLATFORM.pub


reply = lab.alink_reply


def platform_calls(c, pk, dn):
    base = "/sys/%s/%s" % (pk, dn)
    pub(c, base + "/thing/service/property/set",
        {"method": "thing.service.property.set", "id": "1101", "params": {"LightSwitch": 1},
         "version": "1.0.0"}, delay=0.3)
    # The service each SDK's example answers (the Link SDK 4.x demo replies as ToggleLightSwitch).
    service = "ToggleLightSwitch" if LINK4 else "Operation_Service"
    pub(c, base + "/thing/service/" + service,
        {"method": "thing.service." + service, "id": "1102",
         "params": {"NumberA": 2, "NumberB": 3}, "version": "1.0.0"}, delay=0.6)
    if LINK4:
        pub(c, "/ext/rrpc/1733000000000401" + base + "/thing/service/SetLightSwitchTimer",
            {"method": "thing.service.SetLightSwitchTimer", "id": "1103",
             "params": {"Timer": 10}, "version": "1.0.0"}, delay=0.9)
    else:
        pub(c, base + "/rrpc/request/1733000000000301",
            {"method": "thing.service.Operation_Service", "id": "1103",
             "params": {"NumberA": 4, "NumberB": 5}, "version": "1.0.0"}, delay=0.9)
    pub(c, base + "/thing/model/down_raw", bytes([0x01, 0x00, 0x00, 0x04, 0x57, 0x01]), delay=1.2)


def on_message(c, _u, m):
    t, p = m.topic, m.payload
    if PLATFORM.own(t, p):
        return
    log("<-", t, p[:100])
    parts = t.split("/")
    try:
        req = json.loads(p)
    except ValueError:
        req = None
    if t.startswith("/sys/") and len(parts) > 4:
        pk, dn = parts[2], parts[3]
        suffix = "/".join(parts[4:])
        if suffix == "thing/event/property/post" and req:
            pub(c, t + "_reply", reply(req, "thing.event.property.post"), delay=0.05)
            if (pk, dn) not in calls_made:
                calls_made.add((pk, dn))
                platform_calls(c, pk, dn)
        elif suffix.startswith("thing/event/") and suffix.endswith("/post") and req:
            pub(c, t + "_reply", reply(req, "thing.event.%s.post" % parts[6]), delay=0.05)
        elif suffix == "thing/property/desired/get" and req:
            names = req.get("params") if isinstance(req.get("params"), list) else []
            pub(c, t + "_reply", reply(req, "thing.property.desired.get",
                                       {n: {"value": 1, "version": 3} for n in names}), delay=0.05)
        elif suffix in ("thing/deviceinfo/update", "thing/deviceinfo/delete") and req:
            pub(c, t + "_reply", reply(req, suffix.replace("/", ".")), delay=0.05)
        elif suffix == "thing/config/get" and req:
            pub(c, t + "_reply", reply(req, "thing.config.get", {
                "configId": "123dagdah", "configSize": 1234565, "getType": "file",
                "sign": "123214adfadgadg", "signMethod": "Sha256",
                "url": "https://127.0.0.1:1/config/123dagdah"}), delay=0.05)
        elif suffix == "thing/model/up_raw":
            # The sample script's reply: 0x02, the request's id (bytes 1-4), code 200.
            pub(c, t + "_reply", bytes([0x02]) + p[1:5] + bytes([0xC8]), delay=0.05)
    elif t.startswith("/ext/ntp/") and t.endswith("/request") and req:
        now = int(time.time() * 1000)
        pub(c, t[:-len("request")] + "response",
            {"deviceSendTime": req.get("deviceSendTime"), "serverRecvTime": str(now),
             "serverSendTime": str(now + 3)}, delay=0.05)
    elif t.startswith("/ota/device/request/") and req:
        pk, dn = parts[4], parts[5]
        pub(c, "/ota/device/upgrade/%s/%s" % (pk, dn), {
            "code": "1000", "data": {
                "size": 432945, "version": "app-1.0.1-20181201.1000",
                "url": "http://127.0.0.1:1/ota/app-1.0.1.bin",
                "md5": "93230c3bde425a9d7984a594ac55ea1e", "sign": "93230c3bde425a9d7984a594ac55ea1e",
                "signMethod": "Md5"},
            "id": int(time.time()), "message": "success"}, qos=1, delay=0.2)


def main():
    c = mqtt.Client(client_id="lab-platform-c")
    c.on_message = on_message
    c.connect("127.0.0.1", 11884)
    c.subscribe("#", 1)
    c.loop_forever()


if __name__ == "__main__":
    main()
