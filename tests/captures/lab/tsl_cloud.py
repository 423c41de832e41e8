"""Stand-in for the Alibaba IoT platform for the thing-model captures (36, 37; tsl-record.sh):
answers like the platform in strong verification mode where the protocol reference documents it,
and makes the platform's calls that break the model.

- thing/dsltemplate/get and thing/dynamicTsl/get (what the C SDK 3.x asks in its TSL-driven mode):
  the product's thing model (the TSL file given for it) in `data`.
- A property post naming an identifier the model lacks: code 6332 "tsl parse failed" (the code the
  platform's console log shows for it, TSL reference §2.3); any other post: code 200.
- Event posts and the device's other requests: code 200.
- After a device's second property post: a property set of a read-only and of an out-of-range
  property, a call of Calibrate with an input out of range, an unknown input and one missing, and
  a call of the sync service Reboot on the asynchronous topic.

Connects to the uncaptured listener 127.0.0.1:11884.
Usage: tsl_cloud.py PK=TSL.json [PK=TSL.json ...]   (runs until killed)
"""
import json
import sys

import paho.mqtt.client as mqtt

import lab

PLATFORM = lab.Publisher("tsl-cloud")
log, pub = PLATFORM.log, PLATFORM.pub
MODELS = {}            # product key -> the TSL document
posts = {}             # (pk, dn) -> property posts seen


reply = lab.alink_reply


def calls(c, base):
    pub(c, base + "/thing/service/property/set",
        {"method": "thing.service.property.set", "id": "3101", "version": "1.0",
         "params": {"CurrentTemperature": 10.5, "TargetTemperature": 40}}, qos=1, delay=0.3)
    pub(c, base + "/thing/service/Calibrate",
        {"method": "thing.service.Calibrate", "id": "3102", "version": "1.0",
         "params": {"offset": 7.5, "force": 1}}, qos=1, delay=0.6)
    pub(c, base + "/thing/service/Reboot",
        {"method": "thing.service.Reboot", "id": "3103", "version": "1.0", "params": {}},
        qos=1, delay=0.9)


def on_message(c, _u, m):
    t, p = m.topic, m.payload
    if PLATFORM.own(t, p):
        return
    log("<-", t, p[:160])
    parts = t.split("/")
    if len(parts) < 5 or parts[1] != "sys" or t.endswith("_reply"):
        return
    pk, dn = parts[2], parts[3]
    try:
        req = lab.lenient_json_loads(p.decode())
    except Exception:
        return
    model = MODELS.get(pk)
    if t.endswith("/thing/dsltemplate/get"):
        pub(c, t + "_reply", reply(req, "thing.dsltemplate.get", data=model))
    elif t.endswith("/thing/dynamicTsl/get"):
        pub(c, t + "_reply", reply(req, "thing.dynamicTsl.get", data=model))
    elif t.endswith("/thing/event/property/post"):
        known = {x["identifier"] for x in (model or {}).get("properties", [])}
        unknown = [k for k in req.get("params", {}) if model and k not in known]
        if unknown:
            pub(c, t + "_reply", reply(req, "thing.event.property.post", code=6332, message="tsl parse failed"))
        else:
            pub(c, t + "_reply", reply(req, "thing.event.property.post"))
        posts[(pk, dn)] = posts.get((pk, dn), 0) + 1
        if posts[(pk, dn)] == 2:
            calls(c, "/sys/%s/%s" % (pk, dn))
    elif "/thing/event/" in t and t.endswith("/post"):
        pub(c, t + "_reply", reply(req, req.get("method") or "thing.event.%s.post" % parts[6]))


def main():
    for arg in sys.argv[1:]:
        pk, path = arg.split("=", 1)
        with open(path, encoding="utf-8") as f:
            MODELS[pk] = json.load(f)
    c = mqtt.Client(client_id="lab-tsl-platform", clean_session=True, protocol=mqtt.MQTTv311)
    c.on_message = on_message
    c.on_connect = lambda c_, u, f, rc: c_.subscribe([("/sys/#", 1)])
    c.connect(lab.HOST, lab.PLATFORM_PORT, 60)
    c.loop_forever()


if __name__ == "__main__":
    main()
