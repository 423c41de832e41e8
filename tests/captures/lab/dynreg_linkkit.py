"""Capture 12: dynamic registration over MQTT (reference section 3.1), real PyPI aliyun-iot-linkkit 1.2.13.

Product a1DynPk0001 (productSecret Zx9YwVuTsRqPoNmL).  The cloud side is minibroker.py.
1. lab-dyn-01, auth_type="register": CONNECT 'lab-dyn-01.a1DynPk0001|random=<15 chars>,authType=register,
   securemode=2,signmethod=hmacsha256|', password HMAC-SHA256(productSecret, deviceName..productKey..random..);
   CONNACK 0; the platform pushes /ext/register with the deviceSecret; the SDK disconnects by itself.
2. lab-dyn-02, auth_type="regnwl": same, answered on /ext/regnwl with clientId + deviceToken; SDK disconnects.
3. lab-dyn-02 logs in with the token: clientId '<cloud clientId>|authType=connwl,securemode=-2,_ss=1,ext=3,
   lan=Python,_v=1.2.13|', password = deviceToken; posts a property (-> reply).
4. lab-dyn-01 logs in normally with the deviceSecret from step 1 and posts a property (-> reply).
The SDK writes securemode=2 into dynreg client ids whatever the transport; here it runs over plain TCP
(config_mqtt(secure="")) so the traffic can be read.
"""
import json
import threading
import time

import lab
import lkdev

PK = lab.DYN_PK
res = {}
ev = threading.Event()


def dyn_cb(rc, value, ud):
    lkdev.log("lab-dyn-01", "register rc", rc, value)
    res["secret"] = value
    ev.set()


def nwl_cb(rc, client_id, username, password):
    lkdev.log("lab-dyn-02", "regnwl rc", rc, client_id, username, password)
    res["nwl"] = (client_id, username, password)
    ev.set()


def dynreg(dn, kind, cb_name, cb):
    ev.clear()
    lk = lkdev.make(PK, dn, None, connect=False, auth_type=kind, product_secret=lab.DYN_PS)
    setattr(lk, cb_name, cb)
    lk.connect_async()
    if not ev.wait(10):
        raise SystemExit(dn + ": no " + kind + " answer")
    time.sleep(0.5)
    lk.destroy()
    time.sleep(0.5)


def post(lk, dn, rid, params):
    top = "/sys/%s/%s/thing/event/property/post" % (PK, dn)
    lk.subscribe_topic(top + "_reply", 1)
    time.sleep(0.3)
    lk.publish_topic(top, json.dumps({"id": rid, "version": "1.0", "params": params,
                                      "method": "thing.event.property.post"}), 1)
    lkdev.wait_for(lk, top + "_reply")
    lkdev.finish(lk)
    time.sleep(0.3)


dynreg("lab-dyn-01", "register", "on_device_dynamic_register", dyn_cb)
dynreg("lab-dyn-02", "regnwl", "on_device_dynamic_register_nwl_reply", nwl_cb)
cid, user, pw = res["nwl"]
lk = lkdev.make(PK, "lab-dyn-02", None, client_id=cid, username=user, password=pw)
post(lk, "lab-dyn-02", "1", {"temperature": 20.5})
lk = lkdev.make(PK, "lab-dyn-01", res["secret"])
post(lk, "lab-dyn-01", "1", {"temperature": 19.0})
