"""Shared made-up credentials, Alibaba sign helpers and the scripted platform's publisher for the
lab captures."""
import hashlib
import hmac
import json
import re
import sys
import threading

HOST, PORT = "127.0.0.1", 1883          # devices (the port that is captured)
PLATFORM_PORT = 11884                   # the platform stand-in uses a second listener, not captured

PK = "a1B2c3D4e5F"                      # directly connected devices
DEVICES = {
    ("a1B2c3D4e5F", "lab-sensor-13"): "3f1d0c9e8b7a6d5c4b3a29180f7e6d13",   # OTA + NTP
    ("a1B2c3D4e5F", "lab-sensor-14"): "3f1d0c9e8b7a6d5c4b3a29180f7e6d14",   # RRPC + services
    ("a1B2c3D4e5F", "lab-sensor-15"): "3f1d0c9e8b7a6d5c4b3a29180f7e6d15",   # binary payloads
    ("a1B2c3D4e5F", "lab-sensor-16"): "3f1d0c9e8b7a6d5c4b3a29180f7e6d16",   # Alink quirks
    ("a1B2c3D4e5F", "lab-sensor-26"): "3f1d0c9e8b7a6d5c4b3a29180f7e6d26",   # thing model (TSL)
    ("a1B2c3D4e5F", "lab-sensor-27"): "3f1d0c9e8b7a6d5c4b3a29180f7e6d27",   # thing model downloaded
    ("a1B2c3D4e5F", "lab-sensor-28"): "3f1d0c9e8b7a6d5c4b3a29180f7e6d28",   # a property series
    ("a1B2c3D4e5F", "lab-sensor-40"): "3f1d0c9e8b7a6d5c4b3a29180f7e6d40",   # properties with their time
    ("a1GwPkXyz12", "lab-gw-01"): "7c1e5a9d3b2f48e6a0c4d8b2f6e1a301",       # gateway (Node SDK)
    ("a1GwPkXyz12", "lab-gw-02"): "7c1e5a9d3b2f48e6a0c4d8b2f6e1a302",       # gateway (linkkit)
    ("a1SubPk0001", "lab-sub-01"): "5e2b8f1c4a7d90e3b6f2c5a8d1e4b701",      # sub-device
    ("a1SubPk0001", "lab-sub-02"): "5e2b8f1c4a7d90e3b6f2c5a8d1e4b702",      # sub-device; secret issued by thing/sub/register_reply
    # The public demo devices of Alibaba's C SDKs (c-sdk-record.sh)
    ("a1RIsMLz2BJ", "example1"): "RDXf67itLqZCwdMCRrw0N5FHbv5D7jrE",        # iotkit-embedded 3.x
    ("g1namrqiS1h", "mqtt_v5_demo_device"): "7a34b94dc12921c516a60d26c3512f05",  # Link SDK 4.1 MQTT 5 demo
    ("a18wPzZJzNG", "data_model_basic_demo"): "uwMTmVAMnGGHaAkqmeDY6cHxxBMTP3TD",  # Link SDK 4.1 data model demo
}
GW_PK = "a1GwPkXyz12"
SUB_PK = "a1SubPk0001"
DYN_PK, DYN_PS = "a1DynPk0001", "Zx9YwVuTsRqPoNmL"
DYN_REGISTER_DN, DYN_REGISTER_SECRET = "lab-dyn-01", "d4e5f6a7b8c9d0e1f2a3b4c5d6e7f801"
DYN_NWL_DN = "lab-dyn-02"
DYN_NWL_CLIENTID = "a1DynPk0001.lab-dyn-02.1733000000000"
DYN_NWL_TOKEN = "lab-token-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def secret(pk, dn):
    return DEVICES[(pk, dn)]


def hmac_hex(alg, key, content, upper=False):
    alg = alg.lower().replace("hmac", "")
    h = hmac.new(key.encode(), content.encode(), {"sha1": hashlib.sha1, "sha256": hashlib.sha256,
                                                   "md5": hashlib.md5}[alg]).hexdigest()
    return h.upper() if upper else h


def sign_content(client_id, dn, pk, ts=None):
    s = "clientId%sdeviceName%sproductKey%s" % (client_id, dn, pk)
    return s + ("timestamp%s" % ts if ts is not None else "")


def check_sign(pk, dn, client_id, ts, method, sign):
    """Alibaba device/sub-device sign check: HMAC(deviceSecret, sorted content), hex case-insensitive."""
    sec = DEVICES.get((pk, dn))
    if sec is None:
        return False
    return hmac_hex(method, sec, sign_content(client_id, dn, pk, ts)).lower() == str(sign).lower()


def alink_reply(req, method, data=None, code=200, message="success"):
    """The platform's Alink reply to request `req`."""
    return {"code": code, "data": {} if data is None else data, "id": req.get("id"),
            "message": message, "method": method, "version": "1.0"}


def lenient_json_loads(text):
    """JSON with trailing commas tolerated (Link SDK 4.x writes some)."""
    import json
    return json.loads(re.sub(r",\s*([}\]])", r"\1", text))


class Publisher:
    """What a scripted platform publishes (JSON or bytes, now or after a delay), remembered: its
    client subscribes to '#', so mosquitto hands its own messages back and they must not be
    answered (`own`)."""

    def __init__(self, name):
        self.name, self.sent = name, set()

    def log(self, *a):
        print(self.name + ":", *a, file=sys.stderr, flush=True)

    def own(self, topic, payload):
        return (topic, payload) in self.sent

    def pub(self, c, topic, payload, qos=0, delay=0.0):
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload, separators=(",", ":"))
        if isinstance(payload, str):
            payload = payload.encode()
        self.sent.add((topic, payload))

        def go():
            c.publish(topic, payload, qos)
            self.log("->", topic, payload[:120])
        if delay:
            threading.Timer(delay, go).start()
        else:
            go()

