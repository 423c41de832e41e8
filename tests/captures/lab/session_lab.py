"""Credentials and login helpers for the per-session captures 17-21 (lab/session-record.sh).

Extends lab.DEVICES (in memory only) with lab-sensor-17 .. lab-sensor-21 following the pattern of
lab.py, and builds the Alibaba MQTT 3.1.1 login of the 'securemode=3,signmethod=hmacsha1' form:
  clientId  {pk}&{dn}|securemode=3,signmethod=hmacsha1,timestamp=<ms>|
  username  {dn}&{pk}
  password  lower-hex HMAC-SHA1(deviceSecret, clientId{pk}&{dn}deviceName{dn}productKey{pk}timestamp<ms>)
"""
import os
import time

import lab

PK = lab.PK
SESSION_DEVICES = {
    "lab-sensor-17": "3f1d0c9e8b7a6d5c4b3a29180f7e6d17",   # 17: abrupt end (broker frozen, then RST)
    "lab-sensor-18": "3f1d0c9e8b7a6d5c4b3a29180f7e6d18",   # 18: unacked PUBLISH, refused filter
    "lab-sensor-19": "3f1d0c9e8b7a6d5c4b3a29180f7e6d19",   # 19: keep-alive violation
    "lab-sensor-20": "3f1d0c9e8b7a6d5c4b3a29180f7e6d20",   # 20: same device on two connections
    "lab-sensor-21": "3f1d0c9e8b7a6d5c4b3a29180f7e6d21",   # 21: QoS 2, retain, will
}
for _dn, _sec in SESSION_DEVICES.items():
    lab.DEVICES[(PK, _dn)] = _sec


def login(dn, ts=None, pk=PK):
    """-> (client id, user name, password, timestamp) for a direct device, hmacsha1, securemode=3."""
    ts = str(ts if ts is not None else int(time.time() * 1000))
    prefix = "%s&%s" % (pk, dn)
    cid = "%s|securemode=3,signmethod=hmacsha1,timestamp=%s|" % (prefix, ts)
    pw = lab.hmac_hex("hmacsha1", lab.secret(pk, dn), lab.sign_content(prefix, dn, pk, ts))
    return cid, "%s&%s" % (dn, pk), pw, ts


def mark(name):
    """Creates marker file $LAB_SYNC/name (the recorder waits for it)."""
    d = os.environ.get("LAB_SYNC")
    if d:
        open(os.path.join(d, name), "w").close()


def wait_mark(name, timeout=120):
    """Waits until the recorder created $LAB_SYNC/name."""
    d = os.environ.get("LAB_SYNC")
    if not d:
        return
    end = time.time() + timeout
    while not os.path.exists(os.path.join(d, name)):
        if time.time() > end:
            raise SystemExit("timed out waiting for " + name)
        time.sleep(0.05)
