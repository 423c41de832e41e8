"""Credentials, logins and payloads for the transport captures 22-27 (lab/transport-record.sh).

Extends lab.DEVICES (in memory only) with lab-sensor-22 .. lab-sensor-25 following the pattern of
lab.py / session_lab.py, and builds the Alibaba MQTT 3.1.1 login of the 'signmethod=hmacsha1' form
with the securemode of the transport (2 = TLS or wss, 3 = plain TCP or ws):
  clientId  {pk}&{dn}|securemode=<2|3>,signmethod=hmacsha1,timestamp=<ms>|
  username  {dn}&{pk}
  password  lower-hex HMAC-SHA1(deviceSecret, clientId{pk}&{dn}deviceName{dn}productKey{pk}timestamp<ms>)
Usage as a script (for the Node client):  transport_lab.py login DN SECUREMODE  -> JSON on stdout
"""
import json
import sys
import time

import lab
import session_lab  # noqa: F401  (registers lab-sensor-17..21 in lab.DEVICES)

PK = lab.PK
TRANSPORT_DEVICES = {
    "lab-sensor-22": "3f1d0c9e8b7a6d5c4b3a29180f7e6d22",   # 22: MQTT over TLS on TCP 1883 (paho)
    "lab-sensor-23": "3f1d0c9e8b7a6d5c4b3a29180f7e6d23",   # 23: MQTT over ws:// port 80 (mqtt.js)
    "lab-sensor-24": "3f1d0c9e8b7a6d5c4b3a29180f7e6d24",   # 24: MQTT over wss:// port 443 (mqtt.js)
    "lab-sensor-25": "3f1d0c9e8b7a6d5c4b3a29180f7e6d25",   # 25: ws:// port 80, split / coalesced frames
}
for _dn, _sec in TRANSPORT_DEVICES.items():
    lab.DEVICES[(PK, _dn)] = _sec

PLATFORM_PORT = lab.PLATFORM_PORT      # 11884: the platform stand-in's plain listener (not captured)


def login(dn, securemode, ts=None, pk=PK):
    """-> (client id, user name, password, timestamp) for a direct device, hmacsha1."""
    ts = str(ts if ts is not None else int(time.time() * 1000))
    prefix = "%s&%s" % (pk, dn)
    cid = "%s|securemode=%s,signmethod=hmacsha1,timestamp=%s|" % (prefix, securemode, ts)
    pw = lab.hmac_hex("hmacsha1", lab.secret(pk, dn), lab.sign_content(prefix, dn, pk, ts))
    return cid, "%s&%s" % (dn, pk), pw, ts


def post_topic(dn, pk=PK):
    return "/sys/%s/%s/thing/event/property/post" % (pk, dn)


def reply_topic(dn, pk=PK):
    return post_topic(dn, pk) + "_reply"


def post_payload(msg_id="1", **params):
    params = params or {"temperature": 21.5}
    return json.dumps({"id": msg_id, "version": "1.0", "params": params,
                       "method": "thing.event.property.post"}, separators=(",", ":"))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "login":
        cid, user, pw, ts = login(sys.argv[2], sys.argv[3])
        print(json.dumps({"clientId": cid, "username": user, "password": pw, "timestamp": ts,
                          "postTopic": post_topic(sys.argv[2]), "replyTopic": reply_topic(sys.argv[2]),
                          "post": post_payload()}))
    else:
        sys.exit(__doc__)
